"""What the conversation answers: neutral screens each front-end renders its own way."""

from __future__ import annotations

from dataclasses import dataclass, field

from shop.payments import TelegramInvoice


@dataclass(frozen=True)
class Button:
    """An inline button: an action string sent back when pressed, or a URL to open."""

    text: str
    action: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Photo:
    """A product photo; ``telegram_file_id`` is set once it was uploaded to Telegram."""

    id: int
    telegram_file_id: str | None = None
    vk_attachment: str | None = None


@dataclass(frozen=True)
class Screen:
    """One message. ``replace`` edits the message the pressed button was on (navigation).

    ``ask_contact`` asks the front-end to offer its "share my phone" control where it has one;
    ``clear_reply_keyboard`` removes it again. ``invoice`` is sent as the messenger's own
    invoice (Telegram Payments) by front-ends that have one.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    photo: Photo | None = None
    replace: bool = False
    ask_contact: str | None = None
    clear_reply_keyboard: bool = False
    invoice: TelegramInvoice | None = None


@dataclass
class Reply:
    """Everything answered to one event: screens in order, and a short toast for a button."""

    screens: list[Screen] = field(default_factory=list)
    toast: str | None = None


def rows(*rows: list[Button] | tuple[Button, ...]) -> tuple[tuple[Button, ...], ...]:
    """Keyboard rows, empty rows dropped."""
    return tuple(tuple(row) for row in rows if row)
