"""Texts of the owner's catalog and shop administration: Russian first, English second."""

from __future__ import annotations

RU: dict[str, str] = {}

EN: dict[str, str] = {}
