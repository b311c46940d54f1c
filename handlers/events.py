"""What a person did, in messenger-neutral terms: the adapters build these from updates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from shop.accounts import AccountRef

_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _join_pair(pair: re.Match[str]) -> str:
    high, low = (ord(unit) for unit in pair.group())
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def clean_text(value: str) -> str:
    """``value`` without NUL characters and lone surrogates, which no database stores.

    PostgreSQL refuses a NUL in text and JSON, and neither database (nor UTF-8) can hold a
    lone surrogate; a surrogate pair left by a UTF-16 decoder becomes its one character.
    """
    if not _UNSTORABLE.search(value):
        return value
    return _UNSTORABLE.sub("", _SURROGATE_PAIR.sub(_join_pair, value))


_PERSON_WRITTEN = (
    "update_id",
    "text",
    "command",
    "action",
    "phone",
    "display_name",
    "username",
    "language_code",
)
"""Every string field of an Event: they come from the person or their client, untrusted."""


@dataclass(frozen=True)
class Capabilities:
    """What the person's channel can show, filled in by its front-end.

    The conversation branches on these, never on a channel's name; the limits are the
    channel's own (a screen's text, a photo's caption, a button's label), and
    ``return_url`` is where a payment page sends the shopper back to.
    """

    share_contact: bool = False
    """A control that shares the person's own phone number in one tap."""
    native_invoice: bool = False
    """Pays by the messenger's own invoice instead of a payment link."""
    text_length: int = 4000
    caption_length: int = 1000
    buttons_per_screen: int = 30
    label_length: int = 48
    return_url: str = ""
    numbered_choices: bool = False
    """No buttons show: a screen's choices are numbered in its text, chosen by typing."""


@dataclass(frozen=True)
class Attachment:
    """A photo or file a person sent, by the front-end's own reference to it.

    ``ref`` means something only to the channel it came from (a Telegram file_id, a VK
    attachment URL); handlers keep it and hand it back to a front-end to copy or fetch.
    """

    kind: str  # "photo" | "document"
    ref: str
    name: str = ""
    size: int = 0
    mime: str = ""


@dataclass(frozen=True)
class Place:
    """Where a message in a group chat was written (None on an Event means a private chat).

    Ids are the channel's own: the group, the message, its forum topic and the message it
    replies to (0 where there is none). The moderator chat is the one group the shop serves.
    """

    chat_id: int
    message_id: int = 0
    thread_id: int = 0
    reply_to: int = 0
    service: str = ""
    """A service message's kind (e.g. "topic_closed", "migrate_to_chat_id"); "" otherwise."""
    migrate_to: int = 0


class EventKind(StrEnum):
    COMMAND = "command"  # /start payload -> command="start", text="payload"
    TEXT = "text"
    ACTION = "action"  # an inline button: action string
    CONTACT = "contact"  # a shared phone number (the person's own)
    MEDIA = "media"  # sticker, voice, photo, file... where the conversation wants text


@dataclass(frozen=True)
class Event:
    """One update as the conversation sees it; every string in it can be stored as it is."""

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
    caps: Capabilities = Capabilities()
    media: tuple[Attachment, ...] = ()
    """Photos and files sent with a MEDIA event (its caption, if any, is ``text``)."""
    place: Place | None = None
    """The group chat it was written in; None for a private chat with the shop."""
    message_id: int = 0
    """The person's message id in their chat (0 for a button press)."""

    def __post_init__(self) -> None:
        # Cleaned once here, so no adapter can let a NUL reach the database.
        for name in _PERSON_WRITTEN:
            value = getattr(self, name)
            if value:
                cleaned = clean_text(value)
                if cleaned is not value:
                    object.__setattr__(self, name, cleaned)
