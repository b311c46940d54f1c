"""VK API errors as the emulator answers them: codes and wording from the spec's errors.json."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parent.parent / "specs" / "vk-api-schema"

# Fixed wording VK uses where the spec only has the general description.
BAD_TOKEN = "invalid access_token (4)."


@cache
def error_descriptions() -> dict[int, str]:
    """Code -> description, read once from errors.json."""
    data = json.loads((SPEC_DIR / "errors.json").read_text(encoding="utf-8"))
    return {entry["code"]: entry["description"] for entry in data["errors"].values()}


class VkError(Exception):
    """An API call refused: becomes `{"error": {...}}` in the answer."""

    def __init__(self, code: int, detail: str = "") -> None:
        description = error_descriptions().get(code, "Unknown error occurred")
        self.code = code
        self.message = f"{description}: {detail}" if detail else description
        super().__init__(f"[{code}] {self.message}")


def param_error(detail: str) -> VkError:
    """Error 100, the one VK gives for any missing or malformed parameter."""
    return VkError(100, detail)
