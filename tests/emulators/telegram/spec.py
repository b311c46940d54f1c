"""Checking calls (and the emulator's own answers) against the Bot API spec.

The spec file is the real Bot API description, so the emulator refuses what
Telegram refuses: a missing required parameter or a value of the wrong type is
a 400. A parameter the file does not know is only a warning, because aiogram
may target a slightly newer Bot API than the copy of the spec.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import ApiError, bad_request

SPEC_PATH = Path(__file__).resolve().parents[1] / "specs" / "telegram-bot-api.json"

_INT_RE = re.compile(r"^-?\d+$")

# Telegram's own wording when a required parameter is missing.
_MISSING = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "message_id": "message identifier is not specified",
    "callback_query_id": "query_id is empty",
    "photo": "there is no photo in the request",
    "document": "there is no document in the request",
    "video": "there is no video in the request",
    "audio": "there is no audio in the request",
    "voice": "there is no voice in the request",
    "sticker": "there is no sticker in the request",
    "animation": "there is no animation in the request",
}

# Parameters dropped from the documentation that Telegram still honours.
_LEGACY = {
    "reply_to_message_id": ["Integer"],
    "allow_sending_without_reply": ["Boolean"],
    "disable_web_page_preview": ["Boolean"],
}

# What Telegram calls a JSON-serialized parameter it failed to read.
_PARSE_NAMES = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "entities",
    "media": "media",
    "commands": "commands",
    "prices": "prices",
    "scope": "bot command scope",
}


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request (what aiogram sends for an InputFile)."""

    name: str
    filename: str
    data: bytes
    content_type: str | None = None


class _Mismatch(Exception):
    """A value does not fit a type; ``depth`` prefers the deepest explanation."""

    def __init__(self, message: str, depth: int, in_button: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.depth = depth
        self.in_button = in_button


class Spec:
    """The Bot API description: methods, types and the checks built on them."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = data["version"]
        self.methods: dict[str, dict[str, Any]] = data["methods"]
        self.types: dict[str, dict[str, Any]] = data["types"]

    @cached_property
    def _by_lower(self) -> dict[str, str]:
        return {name.lower(): name for name in self.methods}

    def method_name(self, name: str) -> str | None:
        """The canonical method name (Telegram matches names case-insensitively)."""
        return self._by_lower.get(name.lower())

    def fields(self, method: str) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in self.methods[method].get("fields", [])}

    # -- incoming calls ----------------------------------------------------------------

    def validate_call(
        self, method: str, params: dict[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        """Coerce form values to their spec types; raise a 400 like Telegram does.

        Returns the coerced parameters (unknown ones kept as sent) and the
        warnings about parameters or fields this version of the spec lacks.
        """
        fields = self.fields(method)
        warnings: list[str] = []
        out: dict[str, Any] = {}
        for name, value in params.items():
            if name not in fields:
                warnings.append(f"parameter {name!r} is not in {self.version}")
                out[name] = value
                if name in _LEGACY:
                    try:
                        out[name] = self._coerce(value, _LEGACY[name], name, [], top=True)
                    except _Mismatch as exc:
                        raise self._top_error(name, _LEGACY[name], exc) from None
        for name, field in fields.items():
            value = params.get(name)
            if value is None or value == "":
                if field["required"]:
                    raise bad_request(_MISSING.get(name, f'parameter "{name}" is required'))
                continue
            try:
                out[name] = self._coerce(value, field["types"], name, warnings, top=True)
            except _Mismatch as exc:
                raise self._top_error(name, field["types"], exc) from None
        return out, [f"{method}: {warning}" for warning in warnings]

    def _top_error(self, name: str, types: list[str], exc: _Mismatch) -> ApiError:
        if name == "chat_id":
            return bad_request("chat not found")
        if exc.in_button:
            return bad_request(f"can't parse inline keyboard button: {exc.message}")
        if any(t not in _SCALARS for t in types) and not set(types) <= {"InputFile", "String"}:
            what = _PARSE_NAMES.get(name, name)
            return bad_request(f"can't parse {what} JSON object")
        return bad_request(f'parameter "{name}" must be of type {" or ".join(types)}')

    def _coerce(
        self, value: Any, types: list[str], path: str, warnings: list[str], top: bool = False
    ) -> Any:
        best: _Mismatch | None = None
        found: list[tuple[int, Any, list[str]]] = []
        for type_name in types:
            local: list[str] = []
            try:
                result = self._coerce_one(value, type_name, path, local, top)
            except _Mismatch as exc:
                if best is None or exc.depth > best.depth:
                    best = exc
                continue
            found.append((len(local), result, local))
            if not local:
                break
        if found:
            found.sort(key=lambda item: item[0])
            warnings.extend(found[0][2])
            return found[0][1]
        assert best is not None
        raise best

    def _coerce_one(
        self, value: Any, type_name: str, path: str, warnings: list[str], top: bool
    ) -> Any:
        depth = path.count(".") + path.count("[")
        field = path.rsplit(".", 1)[-1]
        wrong = _Mismatch(f'Field "{field}" must be of type {type_name}', depth)
        if type_name == "Integer":
            if isinstance(value, bool):
                raise wrong
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str) and _INT_RE.match(value.strip()):
                return int(value.strip())
            raise wrong
        if type_name == "Float":
            if isinstance(value, bool):
                raise wrong
            if isinstance(value, int | float):
                return float(value)
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    raise wrong from None
            raise wrong
        if type_name == "Boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            raise wrong
        if type_name == "String":
            if isinstance(value, str):
                return value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
            raise wrong
        if type_name == "InputFile":
            if isinstance(value, Upload):
                return value
            raise wrong
        if type_name.startswith("Array of "):
            inner = type_name[len("Array of ") :]
            value = self._json(value, top, wrong)
            if not isinstance(value, list):
                raise wrong
            return [
                self._coerce(item, [inner], f"{path}[{i}]", warnings)
                for i, item in enumerate(value)
            ]
        spec_type = self.types.get(type_name)
        if spec_type is None:
            return value
        if "subtypes" in spec_type:
            return self._coerce(value, spec_type["subtypes"], path, warnings, top)
        value = self._json(value, top, wrong)
        if not isinstance(value, dict):
            raise wrong
        return self._coerce_object(value, spec_type, path, warnings, depth)

    def _coerce_object(
        self,
        value: dict[str, Any],
        spec_type: dict[str, Any],
        path: str,
        warnings: list[str],
        depth: int,
    ) -> dict[str, Any]:
        fields = {f["name"]: f for f in spec_type.get("fields", [])}
        in_button = spec_type["name"] == "InlineKeyboardButton"
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key not in fields:
                warnings.append(f"{path}: field {key!r} of {spec_type['name']} is not in the spec")
                out[key] = item
        for key, field in fields.items():
            if key not in value or value[key] is None:
                if field["required"]:
                    raise _Mismatch(
                        f'Field "{key}" must be of type {" or ".join(field["types"])}',
                        depth + 1,
                        in_button,
                    )
                continue
            try:
                out[key] = self._coerce(value[key], field["types"], f"{path}.{key}", warnings)
            except _Mismatch as exc:
                exc.in_button = exc.in_button or in_button
                raise
        return out

    @staticmethod
    def _json(value: Any, top: bool, wrong: _Mismatch) -> Any:
        if isinstance(value, str) and top:
            try:
                return json.loads(value)
            except ValueError:
                raise wrong from None
        return value

    # -- the emulator's own answers ----------------------------------------------------

    def check_value(self, value: Any, types: list[str], path: str = "result") -> list[str]:
        """What a result lacks against the spec (missing required fields, wrong kinds).

        Used on every answer so a test can assert the emulator itself speaks
        the Bot API that aiogram will parse.
        """
        best: list[str] | None = None
        for type_name in types:
            problems = self._check_one(value, type_name, path)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        return best or []

    def _check_one(self, value: Any, type_name: str, path: str) -> list[str]:
        if type_name == "Integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            return [] if ok else [f"{path}: expected Integer, got {value!r}"]
        if type_name == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return [] if ok else [f"{path}: expected Float, got {value!r}"]
        if type_name in ("Boolean", "True"):
            return [] if isinstance(value, bool) else [f"{path}: expected Boolean, got {value!r}"]
        if type_name == "String":
            return [] if isinstance(value, str) else [f"{path}: expected String, got {value!r}"]
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{path}: expected {type_name}"]
            inner = type_name[len("Array of ") :]
            problems: list[str] = []
            for i, item in enumerate(value):
                problems += self.check_value(item, [inner], f"{path}[{i}]")
            return problems
        spec_type = self.types.get(type_name)
        if spec_type is None:
            return []
        if "subtypes" in spec_type:
            return self.check_value(value, spec_type["subtypes"], path)
        if not isinstance(value, dict):
            return [f"{path}: expected {type_name} object"]
        problems = []
        for field in spec_type.get("fields", []):
            name = field["name"]
            if name not in value:
                if field["required"]:
                    problems.append(f"{path}: {type_name} lacks required {name!r}")
                continue
            problems += self.check_value(value[name], field["types"], f"{path}.{name}")
        return problems

    def minimal(self, types: list[str]) -> Any:
        """The smallest value of a type that has its required fields (for stub methods)."""
        type_name = types[0]
        scalars: dict[str, Any] = {"Integer": 0, "Float": 0.0, "Boolean": True, "String": ""}
        if type_name in scalars:
            return scalars[type_name]
        if type_name.startswith("Array of "):
            return []
        spec_type = self.types.get(type_name, {})
        if "subtypes" in spec_type:
            return self.minimal(spec_type["subtypes"])
        return {
            f["name"]: self.minimal(f["types"])
            for f in spec_type.get("fields", [])
            if f["required"]
        }


_SCALARS = {"Integer", "Float", "Boolean", "String", "InputFile"}
