"""Delivering the ``support.*`` outbox messages: into the ticket's place in the moderator
chat (Telegram), and staff answers back to the shopper in the messenger they wrote from.

Media cross over as they are: a Telegram photo is copied (copyMessage), a VK photo is
fetched and uploaded to the chat, a staff photo for a VK shopper is downloaded from
Telegram and uploaded to VK (messages.send with the attachment).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import Sender
from bot.telegram.render import inline_keyboard
from bot.telegram.support_topics import TopicDesk
from handlers.screens import Button, Screen, rows
from handlers.support_card import LANG
from handlers.texts import t
from shop.accounts import AccountRef, Channel
from shop.models import Customer, OutboxMessage, Ticket, TicketMessage
from shop.support import tickets

log = logging.getLogger(__name__)

KINDS = (
    tickets.OPEN_KIND,
    tickets.IN_KIND,
    tickets.OUT_KIND,
    tickets.STATUS_KIND,
    tickets.POST_KIND,
)
CAPTION = 1000


class SupportRelay:
    """The outbox courier for tickets (`bot.delivery.OutboxDelivery` hands it their kinds)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        desk: TopicDesk,
        vk: Any = None,
        others: Mapping[Channel, Sender] | None = None,
    ) -> None:
        self.sessions = sessions
        self.desk = desk
        self.bot = desk.bot
        self.vk = vk
        """A `bot.vk.frontend.VkFrontend` when VK is on."""
        self.others = dict(others or {})
        """Any other channel's front-end (the console): staff answers go there as text."""

    async def deliver(self, message: OutboxMessage) -> None:
        payload = message.payload
        ticket_id = int(payload["ticket_id"])
        if message.kind == tickets.OPEN_KIND:
            await self.desk.post(ticket_id, None)
        elif message.kind == tickets.STATUS_KIND:
            await self.desk.refresh(ticket_id)
        elif message.kind == tickets.POST_KIND:
            text = t(LANG, "chat.sla", ticket_id=ticket_id, minutes=payload.get("minutes", 0))
            await self.desk.post(ticket_id, self._text(text))
        elif message.kind == tickets.IN_KIND:
            await self._to_chat(int(payload["message_id"]))
        elif message.kind == tickets.OUT_KIND:
            await self._to_shopper(int(payload["message_id"]), message.recipient, message.id)

    async def _load(self, message_id: int) -> tuple[TicketMessage, Ticket, str]:
        async with self.sessions() as session:
            row = await session.get(TicketMessage, message_id)
            assert row is not None
            ticket = await session.get(Ticket, row.ticket_id)
            assert ticket is not None
            language = await session.get(Customer, ticket.customer_id)
            return row, ticket, language.language if language is not None else "ru"

    def _text(self, text: str) -> Any:
        async def send(chat: int, thread: int | None, reply_to: int | None) -> Message:
            return await self.bot.send_message(
                chat, text[:4000], message_thread_id=thread, reply_to_message_id=reply_to
            )

        return send

    # shopper -> chat

    async def _to_chat(self, message_id: int) -> None:
        row, ticket, _ = await self._load(message_id)
        said = t(LANG, "chat.shopper_says", name=row.author_name or "?", text=row.text)
        media = row.media or []
        sent: Message | None = None
        if not media:
            sent = await self.desk.post(ticket.id, self._text(said))
        for item in media:
            sent = await self.desk.post(ticket.id, await self._media_into_chat(row, item, said))
            said = t(LANG, "chat.shopper_says", name=row.author_name or "?", text="")
        if sent is not None:
            async with self.sessions() as session, session.begin():
                stored = await session.get(TicketMessage, message_id)
                assert stored is not None
                stored.chat_message_id = sent.message_id

    async def _media_into_chat(self, row: TicketMessage, item: dict[str, Any], caption: str) -> Any:
        caption = caption[:CAPTION]
        if item.get("channel") == Channel.TELEGRAM.value and row.source_message_id:
            source = AccountRef(Channel.TELEGRAM, int(row.author.partition(":")[2]))

            async def copy(chat: int, thread: int | None, reply_to: int | None) -> Message:
                copied = await self.bot.copy_message(
                    chat,
                    source.external_id,
                    row.source_message_id,
                    message_thread_id=thread,
                    caption=caption,
                    reply_to_message_id=reply_to,
                )
                return Message.model_construct(message_id=copied.message_id)

            return copy
        data = await _fetch(str(item["ref"]))
        name = str(item.get("name") or ("photo.jpg" if item["kind"] == "photo" else "file"))
        upload = BufferedInputFile(data, name)

        async def send(chat: int, thread: int | None, reply_to: int | None) -> Message:
            if item["kind"] == "photo":
                return await self.bot.send_photo(
                    chat,
                    upload,
                    caption=caption,
                    message_thread_id=thread,
                    reply_to_message_id=reply_to,
                )
            return await self.bot.send_document(
                chat,
                upload,
                caption=caption,
                message_thread_id=thread,
                reply_to_message_id=reply_to,
            )

        return send

    # chat -> shopper

    async def _to_shopper(self, message_id: int, recipient: str, outbox_id: int) -> None:
        row, ticket, language = await self._load(message_id)
        channel, _, ident = recipient.partition(":")
        peer = int(ident)
        text = t(language, "support.reply", ticket_id=ticket.id, text=row.text).strip()
        close = Button(t(language, "btn.support_close"), action=f"sup:x:{ticket.id}")
        screen = Screen(text, rows([close]))
        if channel == Channel.TELEGRAM.value:
            await self._to_telegram_shopper(peer, row, screen)
        elif channel == Channel.VK.value and self.vk is not None:
            await self._to_vk_shopper(peer, row, screen, outbox_id)
        elif (other := self.others.get(Channel(channel))) is not None:
            await other.send(peer, screen, key=f"support/{outbox_id}")
        else:
            raise RuntimeError(f"no messenger for {recipient}")

    async def _to_telegram_shopper(self, chat: int, row: TicketMessage, screen: Screen) -> None:
        markup = inline_keyboard(screen)
        if not row.media or not row.source_message_id:
            await self.bot.send_message(chat, screen.text[:4000], reply_markup=markup)
            return
        await self.bot.copy_message(
            chat,
            await self.desk.chat_id(),
            row.source_message_id,
            caption=screen.text[:CAPTION],
            reply_markup=markup,
        )

    async def _to_vk_shopper(self, peer: int, row: TicketMessage, screen: Screen, key: int) -> None:
        from bot.vk.calls import call
        from bot.vk.keyboards import layout
        from bot.vk.render import random_id_of

        params: dict[str, Any] = {"peer_id": peer, "message": screen.text[:4000]}
        params["random_id"] = random_id_of(f"support/{key}")
        keyboard = layout(screen, True).keyboard
        if keyboard is not None:
            params["keyboard"] = keyboard
        attachments = [await self._vk_attachment(peer, item) for item in row.media or []]
        if attachments:
            params["attachment"] = ",".join(attachments)
        await call(self.vk.vk, "messages.send", **params)

    async def _vk_attachment(self, peer: int, item: dict[str, Any]) -> str:
        """A staff member's Telegram photo or file, downloaded and uploaded to VK."""
        import vk_api

        from bot.vk.photos import attachment_string

        buffer = await self.bot.download(str(item["ref"]))
        assert buffer is not None
        data = buffer.read()
        upload = vk_api.VkUpload(self.vk.vk)
        if item["kind"] == "photo":
            saved = await asyncio.to_thread(upload.photo_messages, io.BytesIO(data), peer)
            return attachment_string(saved[0])
        name = str(item.get("name") or "file")
        doc = await asyncio.to_thread(upload.document_message, _named(data, name), name, None, peer)
        body = doc["doc"]
        return f"doc{body['owner_id']}_{body['id']}"


def _named(data: bytes, name: str) -> io.BytesIO:
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


async def _fetch(url: str) -> bytes:
    """A shopper's file from their messenger's servers (a VK photo or document URL)."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        response.raise_for_status()
        return await response.read()
