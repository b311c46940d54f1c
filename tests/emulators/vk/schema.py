"""Check every call against the VK API schema (tests/emulators/specs/vk-api-schema).

The schema marks a required parameter with `"required": true` inside the parameter
itself, which a generic JSON Schema validator ignores, so the few checks VK makes on
form parameters (presence, type, range, enum) are done here by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache

from tests.emulators.vk.errors import SPEC_DIR, VkError, param_error

# Parameters any method accepts besides its own.
GLOBAL_PARAMS = frozenset({"v", "access_token", "lang", "test_mode", "captcha_sid", "captcha_key"})

# What the real API requires or accepts although the schema does not say so.
EXTRA_REQUIRED: dict[str, frozenset[str]] = {"messages.send": frozenset({"random_id"})}
EXTRA_PARAMS: dict[str, dict[str, tuple[str, ...]]] = {
    "messages.edit": {"conversation_message_id": ("integer",)},
}

_INT = re.compile(r"-?\d+")
_BOOL = frozenset({"0", "1", "true", "false"})


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a method, as far as form validation needs it."""

    name: str
    types: tuple[str, ...]
    item_types: tuple[str, ...] = ()
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class MethodSpec:
    """A method: its parameters and which token types may call it."""

    name: str
    params: dict[str, ParamSpec]
    token_types: tuple[str, ...]


def _types(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),) if value else ()


def _param(name: str, raw: dict, method: str) -> ParamSpec:
    items = raw.get("items") or {}
    required = bool(raw.get("required")) or name in EXTRA_REQUIRED.get(method, ())
    return ParamSpec(
        name=name,
        types=_types(raw.get("type")),
        item_types=_types(items.get("type")),
        required=required,
        minimum=raw.get("minimum"),
        maximum=raw.get("maximum"),
        enum=tuple(str(v) for v in raw.get("enum", ())),
    )


@cache
def methods() -> dict[str, MethodSpec]:
    """Every method of every section, loaded once."""
    found: dict[str, MethodSpec] = {}
    for path in sorted(SPEC_DIR.glob("*/methods.json")):
        for raw in json.loads(path.read_text(encoding="utf-8")).get("methods", []):
            name = raw["name"]
            params = {p["name"]: _param(p["name"], p, name) for p in raw.get("parameters", [])}
            for extra, types in EXTRA_PARAMS.get(name, {}).items():
                params.setdefault(extra, ParamSpec(extra, types))
            found[name] = MethodSpec(name, params, tuple(raw.get("access_token_type", ())))
    return found


def _scalar_ok(value: str, types: tuple[str, ...]) -> bool:
    if not types:
        return True
    for kind in types:
        if kind == "integer" and _INT.fullmatch(value.strip()):
            return True
        if kind == "boolean" and value.strip().lower() in _BOOL:
            return True
        if kind == "number":
            try:
                float(value)
            except ValueError:
                continue
            return True
        if kind not in ("integer", "boolean", "number"):
            return True  # string, object, array items without a type
    return False


def _in_range(value: str, spec: ParamSpec) -> bool:
    if spec.minimum is None and spec.maximum is None:
        return True
    try:
        number = float(value)
    except ValueError:
        return True  # the type check reports it
    if spec.minimum is not None and number < spec.minimum:
        return False
    return not (spec.maximum is not None and number > spec.maximum)


def _check(spec: ParamSpec, value: str) -> None:
    if "array" in spec.types:
        items = [item for item in value.split(",") if item != ""]
        for item in items:
            if not _scalar_ok(item, spec.item_types):
                raise param_error(f"{spec.name} not {spec.item_types[0]}")
        return
    if not _scalar_ok(value, spec.types):
        raise param_error(f"{spec.name} not {spec.types[0]}")
    if "integer" in spec.types and _INT.fullmatch(value.strip()) and not _in_range(value, spec):
        raise param_error(f"{spec.name} is out of range")
    if spec.enum and value not in spec.enum:
        raise param_error(f"{spec.name} should be one of {', '.join(spec.enum)}")


def validate(name: str, params: dict[str, str]) -> list[str]:
    """Raise the error VK would give for these parameters; return warnings.

    Error 3 for a method the schema does not know, 8 without a version, 100 for a
    missing required or malformed parameter. Unknown parameters are not errors for VK
    (it ignores them) but are returned as warnings, since they are usually a typo.
    """
    spec = methods().get(name)
    if spec is None:
        raise VkError(3)
    if not params.get("v"):
        raise VkError(8, "v (version) is required")
    for param in spec.params.values():
        value = params.get(param.name)
        if value is None or value == "":
            if param.required:
                raise param_error(f"{param.name} is undefined")
            continue
        _check(param, value)
    return [
        f"{name}: unknown parameter {key!r}"
        for key in params
        if key not in spec.params and key not in GLOBAL_PARAMS
    ]
