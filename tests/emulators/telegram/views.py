"""Messages and topics as a person sees them, for test assertions.

Views are snapshots taken when read: edits already applied, deleted
messages gone, text and caption folded into one ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .state import ChatState, StoredMessage, TopicState


class Button(NamedTuple):
    """An inline button as (text, callback_data or url)."""

    text: str
    data: str | None


def _button(raw: dict[str, Any]) -> Button:
    return Button(raw.get("text", ""), raw.get("callback_data") or raw.get("url"))


@dataclass(frozen=True)
class MessageView:
    """One message in a chat, as it is on screen now."""

    message_id: int
    chat_id: int
    from_bot: bool
    sender_id: int | None
    text: str | None
    photo: str | None
    document: str | None
    keyboard: list[list[Button]]
    reply_keyboard: list[list[str]] | None
    thread_id: int | None
    reply_to: int | None
    edited: bool
    raw: dict[str, Any]

    @classmethod
    def of(cls, stored: StoredMessage) -> MessageView:
        api = stored.api
        photo = api.get("photo")
        document = api.get("document")
        inline = api.get("reply_markup", {}).get("inline_keyboard", [])
        reply = stored.reply_keyboard
        return cls(
            message_id=stored.message_id,
            chat_id=api["chat"]["id"],
            from_bot=stored.from_bot,
            sender_id=api.get("from", {}).get("id"),
            text=api.get("text", api.get("caption")),
            photo=photo[-1]["file_id"] if photo else None,
            document=document["file_id"] if document else None,
            keyboard=[[_button(b) for b in row] for row in inline],
            reply_keyboard=(
                [[b.get("text", "") for b in row] for row in reply["keyboard"]] if reply else None
            ),
            thread_id=api.get("message_thread_id"),
            reply_to=api.get("reply_to_message", {}).get("message_id"),
            edited="edit_date" in api,
            raw=api,
        )

    @property
    def buttons(self) -> list[list[str]]:
        """Just the visible texts of the inline buttons, row by row."""
        return [[b.text for b in row] for row in self.keyboard]

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.raw.get("entities", self.raw.get("caption_entities", [])))

    @property
    def invoice(self) -> dict[str, Any] | None:
        return self.raw.get("invoice")

    @property
    def contact(self) -> dict[str, Any] | None:
        return self.raw.get("contact")

    @property
    def kind(self) -> str:
        for key in (
            "text",
            "photo",
            "document",
            "sticker",
            "voice",
            "video",
            "animation",
            "audio",
            "contact",
            "location",
            "invoice",
            "successful_payment",
        ):
            if key in self.raw:
                return key
        return "service"

    def __str__(self) -> str:
        who = "bot" if self.from_bot else f"user {self.sender_id}"
        lines = [f"[{self.message_id} {who} {self.kind}] {self.text or ''}".rstrip()]
        lines += ["    " + " | ".join(row) for row in self.buttons]
        return "\n".join(lines)


@dataclass(frozen=True)
class TopicView:
    """A forum topic and the messages in it (its creation notice left out)."""

    thread_id: int
    name: str
    icon_color: int
    closed: bool
    messages: list[MessageView]

    @classmethod
    def of(cls, chat: ChatState, topic: TopicState) -> TopicView:
        inside = [
            MessageView.of(stored)
            for stored in chat.messages.values()
            if stored.api.get("message_thread_id") == topic.thread_id
            and "forum_topic_created" not in stored.api
        ]
        return cls(topic.thread_id, topic.name, topic.icon_color, topic.closed, inside)

    @property
    def texts(self) -> list[str | None]:
        return [m.text for m in self.messages]


def chat_messages(chat: ChatState) -> list[MessageView]:
    return [MessageView.of(stored) for _, stored in sorted(chat.messages.items())]
