"""Texts of linking a person's Telegram and VK accounts: Russian first, English second."""

from __future__ import annotations

RU: dict[str, str] = {}

EN: dict[str, str] = {}
