"""Channel account references such as ``telegram:123`` or ``vk:456``."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Channel(StrEnum):
    TELEGRAM = "telegram"
    VK = "vk"
    CONSOLE = "console"  # the web-chat channel (bot/console)


class AccountRef(NamedTuple):
    """One person's (or chat's) address in one messenger."""

    channel: Channel
    external_id: int

    def __str__(self) -> str:
        return f"{self.channel.value}:{self.external_id}"


def parse_account(text: str) -> AccountRef:
    """Parse ``telegram:ID`` or ``vk:ID``; raise ValueError saying what is expected."""
    channel, _, ident = text.strip().partition(":")
    try:
        return AccountRef(Channel(channel.strip().lower()), int(ident.strip()))
    except ValueError:
        raise ValueError(
            f"{text.strip()!r} is not of the form telegram:ID or vk:ID (ID is a number)"
        ) from None


def parse_accounts(text: str) -> list[AccountRef]:
    """Parse a comma-separated list of account references; empty text gives an empty list."""
    return [parse_account(part) for part in text.split(",") if part.strip()]
