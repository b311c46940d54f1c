"""What a person did, in messenger-neutral terms: the adapters build these from updates."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shop.accounts import AccountRef


class EventKind(StrEnum):
    COMMAND = "command"  # /start payload -> command="start", text="payload"
    TEXT = "text"
    ACTION = "action"  # an inline button: action string
    CONTACT = "contact"  # a shared phone number (the person's own)
    MEDIA = "media"  # sticker, voice, photo, file... where the conversation wants text


@dataclass(frozen=True)
class Event:
    account: AccountRef
    kind: EventKind
    update_id: str = ""
    text: str = ""
    command: str = ""
    action: str = ""
    phone: str = ""
    display_name: str = ""
    username: str | None = None
    language_code: str | None = None
