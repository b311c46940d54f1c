"""Checking what a shopper types at checkout; each returns the clean value or None."""

from __future__ import annotations

import re
import unicodedata

_PHONE_JUNK = re.compile(r"[\s()\-.]")


def _printable(text: str) -> bool:
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text)


def clean_name(text: str) -> str | None:
    name = " ".join(text.split())
    if not 1 <= len(name) <= 100 or not any(ch.isalpha() for ch in name):
        return None
    return name if _printable(name) else None


def clean_phone(text: str) -> str | None:
    """A phone in E.164 (+79001234567); Russian 8-prefixed and 10-digit forms are accepted."""
    digits = _PHONE_JUNK.sub("", text.strip())
    if digits.startswith("+"):
        rest = digits[1:]
        return digits if rest.isdigit() and 10 <= len(rest) <= 15 else None
    if not digits.isdigit():
        return None
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        return "+7" + digits
    return None


def clean_address(text: str) -> str | None:
    address = " ".join(text.split())
    return address if 5 <= len(address) <= 300 and _printable(address) else None


def clean_comment(text: str) -> str | None:
    comment = text.strip()
    return comment if 1 <= len(comment) <= 500 and _printable(comment) else None


_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|[Xx][Nn]--[A-Za-z0-9-]{1,59})"
)


def clean_email(text: str) -> str | None:
    """An e-mail address for the receipt (name@example.ru, also a Cyrillic domain), or None."""
    email = text.strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email) or len(email.partition("@")[0]) > 64:
        return None
    local, _, domain = email.partition("@")
    return f"{local}@{domain.lower()}"
