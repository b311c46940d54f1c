"""Turning aiogram updates into the conversation's neutral Events."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message, User

from handlers.events import Attachment, Event, EventKind, Place
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


def attachments(message: Message) -> tuple[Attachment, ...]:
    """The photo (its largest size) or document of a message, by Telegram file_id."""
    if message.photo:
        biggest = message.photo[-1]
        return (Attachment("photo", biggest.file_id, size=biggest.file_size or 0),)
    document = message.document
    if document is not None:
        return (
            Attachment(
                "document",
                document.file_id,
                name=document.file_name or "",
                size=document.file_size or 0,
                mime=document.mime_type or "",
            ),
        )
    return ()


def place(message: Message) -> Place | None:
    """Where in a group a message was written; None for a private chat."""
    if message.chat.type == "private":
        return None
    service = ""
    if message.migrate_to_chat_id:
        service = "migrate_to_chat_id"
    elif message.forum_topic_closed is not None:
        service = "forum_topic_closed"
    elif message.forum_topic_reopened is not None:
        service = "forum_topic_reopened"
    elif message.pinned_message is not None:
        service = "pinned_message"
    reply_to = message.reply_to_message
    thread = message.message_thread_id if message.is_topic_message else 0
    return Place(
        chat_id=message.chat.id,
        message_id=message.message_id,
        thread_id=thread or 0,
        # In a forum, a message without a reply is shown as replying to its topic's start.
        reply_to=reply_to.message_id
        if reply_to is not None and reply_to.message_id != thread
        else 0,
        service=service,
        migrate_to=message.migrate_to_chat_id or 0,
    )


def message_event(message: Message, update_id: int, bot_username: str | None) -> Event | None:
    """The Event for a message, or None for what the shop does not answer.

    A group message carries its Place (the conversation answers only the moderator chat).
    """
    user = message.from_user
    if user is None or user.is_bot:
        return None
    who = _who(user)
    base = {
        "update_id": str(update_id),
        "message_id": message.message_id,
        "place": place(message),
        **who,
    }
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
    return Event(
        kind=EventKind.MEDIA,
        text=message.caption or "",
        media=attachments(message),
        **base,  # type: ignore[arg-type]
    )


def callback_event(query: CallbackQuery, update_id: int) -> Event:
    return Event(
        kind=EventKind.ACTION,
        action=query.data or "",
        update_id=str(update_id),
        **_who(query.from_user),  # type: ignore[arg-type]
    )
