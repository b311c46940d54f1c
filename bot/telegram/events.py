"""Turning aiogram updates into the conversation's neutral Events."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message, User

from handlers.events import Event, EventKind
from shop.accounts import AccountRef, Channel


def _who(user: User) -> dict[str, object]:
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return {
        "account": AccountRef(Channel.TELEGRAM, user.id),
        "display_name": name,
        "username": user.username,
        "language_code": user.language_code,
    }


def split_command(text: str, bot_username: str | None) -> tuple[str, str] | None:
    """``/start@shop_bot p_12`` -> ("start", "p_12"); None for another bot's command."""
    head, _, argument = text.partition(" ")
    command, _, addressee = head[1:].partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None
    return command.lower(), argument.strip()


def message_event(message: Message, update_id: int, bot_username: str | None) -> Event | None:
    """The Event for a private message, or None for what the shop does not answer."""
    user = message.from_user
    if user is None or user.is_bot:
        return None
    who = _who(user)
    base = {"update_id": str(update_id), **who}
    if message.text is not None:
        if message.text.startswith("/"):
            parsed = split_command(message.text, bot_username)
            if parsed is None:
                return None
            command, argument = parsed
            return Event(kind=EventKind.COMMAND, command=command, text=argument, **base)  # type: ignore[arg-type]
        return Event(kind=EventKind.TEXT, text=message.text, **base)  # type: ignore[arg-type]
    if message.contact is not None and message.contact.user_id == user.id:
        return Event(kind=EventKind.CONTACT, phone=message.contact.phone_number, **base)  # type: ignore[arg-type]
    return Event(kind=EventKind.MEDIA, **base)  # type: ignore[arg-type]


def callback_event(query: CallbackQuery, update_id: int) -> Event:
    return Event(
        kind=EventKind.ACTION,
        action=query.data or "",
        update_id=str(update_id),
        **_who(query.from_user),  # type: ignore[arg-type]
    )
