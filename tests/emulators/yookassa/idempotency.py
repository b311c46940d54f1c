"""Idempotence keys: a repeated request gets the first answer, a different one is refused."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.emulators.yookassa.errors import invalid_request


@dataclass(frozen=True)
class Remembered:
    fingerprint: str
    status: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, body: Any) -> str:
    return json.dumps([method, path, body], sort_keys=True, ensure_ascii=False)


class IdempotenceKeys:
    """Keys are scoped to a shop and compared by the whole request, as the API does."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], Remembered] = {}

    def replay(self, shop_id: str, key: str, request_print: str) -> Remembered | None:
        """The remembered answer for a repeat, None for a new key; refuse a changed request."""
        remembered = self._answers.get((shop_id, key))
        if remembered is None:
            return None
        if remembered.fingerprint != request_print:
            raise invalid_request(
                "Idempotence key duplicated: this key was used with another request. "
                "Use a new key for a new request.",
                "Idempotence-Key",
            )
        return remembered

    def remember(
        self, shop_id: str, key: str, request_print: str, status: int, body: dict[str, Any]
    ) -> None:
        self._answers[(shop_id, key)] = Remembered(request_print, status, body)
