"""Texts of support tickets, the shopper's side and the moderator chat (RU, then EN)."""

from __future__ import annotations

RU: dict[str, str] = {}

EN: dict[str, str] = {}
