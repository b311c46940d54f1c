"""What the conversation answers: neutral screens each front-end renders its own way."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """An inline button: an action string sent back when pressed, or a URL to open."""

    text: str
    action: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Photo:
    """A product photo by its id; each front-end keeps its own upload cache for it."""

    id: int


@dataclass(frozen=True)
class Document:
    """A file sent with a screen (its text is the caption): an export, a list of bad lines."""

    name: str
    data: bytes = field(repr=False)
    mime: str = "text/csv"


@dataclass(frozen=True)
class PayOrder:
    """Pay for the customer's order online, by the front-end's own means.

    A front-end with a native invoice sends one; any other gives a payment link (a button
    added to the screen). ``customer_id`` is whose order it is, ``language`` theirs.
    """

    order_id: int
    customer_id: int
    language: str = "ru"


@dataclass(frozen=True)
class Screen:
    """One message. ``replace`` edits the message the pressed button was on (navigation).

    ``ask_contact`` asks the front-end to offer its "share my phone" control where it has
    one (the front-end takes it away again with its next screen). ``pay`` is a payment the
    front-end turns into its own means (an invoice, or a link button on this screen).
    ``document`` is a file sent with the text as its caption (never an edit; not carried by
    the outbox).
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    photo: Photo | None = None
    replace: bool = False
    ask_contact: str | None = None
    pay: PayOrder | None = None
    document: Document | None = None


@dataclass
class Reply:
    """Everything answered to one event: screens in order, and a short toast for a button."""

    screens: list[Screen] = field(default_factory=list)
    toast: str | None = None


def rows(*rows: list[Button] | tuple[Button, ...]) -> tuple[tuple[Button, ...], ...]:
    """Keyboard rows, empty rows dropped."""
    return tuple(tuple(row) for row in rows if row)


def screen_to_payload(screen: Screen) -> dict[str, Any]:
    """The screen as JSON for an outbox message (see `screen_from_payload`).

    A payment is not carried: it is made afresh when the shopper asks to pay again; callers
    drop such screens. ``replace`` is not carried either: a screen sent later is a new
    message, never an edit.
    """
    data: dict[str, Any] = {"text": screen.text}
    if screen.buttons:
        data["buttons"] = [
            [{k: v for k, v in asdict(button).items() if v is not None} for button in row]
            for row in screen.buttons
        ]
    if screen.photo is not None:
        data["photo"] = {k: v for k, v in asdict(screen.photo).items() if v is not None}
    if screen.ask_contact is not None:
        data["ask_contact"] = screen.ask_contact
    return data


def screen_from_payload(data: dict[str, Any]) -> Screen:
    """The screen `screen_to_payload` stored."""
    photo = data.get("photo")
    return Screen(
        text=data["text"],
        buttons=tuple(tuple(Button(**button) for button in row) for row in data.get("buttons", ())),
        photo=Photo(photo["id"]) if photo else None,
        ask_contact=data.get("ask_contact"),
    )
