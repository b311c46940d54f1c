"""Checks of request fields the real API refuses, each naming the offending parameter."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from tests.emulators.yookassa.errors import invalid_request

CURRENCY = "RUB"
DESCRIPTION_LIMIT = 128
METADATA_KEYS_LIMIT = 16
METADATA_KEY_LIMIT = 32
METADATA_VALUE_LIMIT = 512
IDEMPOTENCE_KEY_LIMIT = 64
CONFIRMATION_TYPES = ("redirect", "embedded", "external")

_AMOUNT_VALUE = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_CENT = Decimal("0.01")


def require_object(body: Any, parameter: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid_request(f"{parameter} must be an object", parameter)
    return body


def parse_amount(data: Any, parameter: str, currency: str = CURRENCY) -> Decimal:
    """Amount is `{"value": "123.45", "currency": "RUB"}`; numbers are accepted like strings."""
    if not isinstance(data, dict):
        raise invalid_request(f"{parameter} is missing or not an object", parameter)
    value = data.get("value")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid_request(f"{parameter}.value is missing", f"{parameter}.value")
    text = str(value)
    if not _AMOUNT_VALUE.match(text):
        raise invalid_request(
            f"{parameter}.value has a wrong format: {text!r}", f"{parameter}.value"
        )
    try:
        amount = Decimal(text).quantize(_CENT)
    except InvalidOperation as error:  # pragma: no cover - the regex guards it
        raise invalid_request(f"{parameter}.value is not a number", f"{parameter}.value") from error
    if amount <= 0:
        raise invalid_request(f"{parameter}.value must be positive", f"{parameter}.value")
    if data.get("currency") != currency:
        raise invalid_request(f"{parameter}.currency must be {currency}", f"{parameter}.currency")
    return amount


def format_amount(value: Decimal, currency: str = CURRENCY) -> dict[str, str]:
    return {"value": str(value.quantize(_CENT)), "currency": currency}


def check_description(
    value: Any, parameter: str = "description", limit: int = DESCRIPTION_LIMIT
) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_request(f"{parameter} must be a string", parameter)
    if len(value) > limit:
        raise invalid_request(f"{parameter} is longer than {limit} characters", parameter)
    return value


def check_metadata(value: Any) -> dict[str, str] | None:
    """Metadata holds at most 16 string pairs; scalars come back as strings like the real API."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_request("metadata must be an object", "metadata")
    if len(value) > METADATA_KEYS_LIMIT:
        raise invalid_request(f"metadata holds more than {METADATA_KEYS_LIMIT} keys", "metadata")
    kept: dict[str, str] = {}
    for key, item in value.items():
        if len(key) > METADATA_KEY_LIMIT:
            raise invalid_request(f"metadata key {key!r} is too long", "metadata")
        if isinstance(item, dict | list):
            raise invalid_request(f"metadata.{key} must be a string", "metadata")
        text = "" if item is None else str(item).lower() if isinstance(item, bool) else str(item)
        if len(text) > METADATA_VALUE_LIMIT:
            raise invalid_request(f"metadata.{key} is too long", "metadata")
        kept[key] = text
    return kept


def check_confirmation(value: Any) -> dict[str, Any]:
    """Only the confirmation kinds a shop bot can use; redirect needs a return_url."""
    if value is None:
        raise invalid_request("confirmation is missing", "confirmation")
    if not isinstance(value, dict):
        raise invalid_request("confirmation must be an object", "confirmation")
    kind = value.get("type")
    if kind not in CONFIRMATION_TYPES:
        raise invalid_request(f"confirmation.type {kind!r} is not supported", "confirmation.type")
    if kind == "redirect":
        url = value.get("return_url")
        if not isinstance(url, str) or not re.match(r"^[a-zA-Z][\w+.-]*://", url):
            raise invalid_request(
                "confirmation.return_url is missing or not a URL", "confirmation.return_url"
            )
        if len(url) > 2048:
            raise invalid_request("confirmation.return_url is too long", "confirmation.return_url")
    return dict(value)


def check_idempotence_key(value: str | None) -> str:
    if not value:
        raise invalid_request(
            "Idempotence key is missing. Specify the Idempotence-Key header.", "Idempotence-Key"
        )
    if len(value) > IDEMPOTENCE_KEY_LIMIT:
        raise invalid_request(
            f"Idempotence key is longer than {IDEMPOTENCE_KEY_LIMIT} characters",
            "Idempotence-Key",
        )
    return value
