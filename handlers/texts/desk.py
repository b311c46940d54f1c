"""Texts of the staff order desk and of the order updates shoppers get (RU, then EN)."""

from __future__ import annotations

RU: dict[str, str] = {}

EN: dict[str, str] = {}
