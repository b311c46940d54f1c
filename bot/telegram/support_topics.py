"""The moderator chat on Telegram: one forum topic per ticket (or the card's message in a
plain group), and whatever a ticket posts there, kept working through a deleted topic, a
group upgraded to a supergroup, and a bot that lost its rights (owners are told).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
)
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.render import inline_keyboard
from handlers.screens import Screen, screen_to_payload
from handlers.support_card import LANG, card, customer_name, summary, topic_title
from handlers.texts import t
from shop import outbox
from shop.accounts import AccountRef
from shop.models import Ticket
from shop.support import chat as support_chat

log = logging.getLogger(__name__)

Post = Callable[[int, int | None, int | None], Awaitable[Message]]
"""Posts one message: (chat id, topic thread id or None, message to reply to or None)."""
THREAD_GONE = "message thread not found"
NO_RIGHTS = ("not enough rights", "CHAT_ADMIN_REQUIRED", "have no rights")


class TopicDesk:
    """Places each ticket in the moderator chat and posts there for it."""

    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        configured_chat: int,
        owners: list[AccountRef],
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.configured = configured_chat
        self.owners = owners
        self._forum: dict[int, bool] = {}

    async def chat_id(self) -> int:
        async with self.sessions() as session:
            return await support_chat.current_chat(session, self.configured)

    async def topics_usable(self, chat_id: int) -> bool:
        """A forum where the bot may manage topics (asked once per chat id)."""
        if chat_id not in self._forum:
            chat = await self.bot.get_chat(chat_id)
            usable = bool(chat.is_forum)
            if usable:
                me = await self.bot.get_chat_member(chat_id, self.bot.id)
                usable = bool(getattr(me, "can_manage_topics", False)) or me.status == "creator"
                if not usable:
                    await self._problem("the bot may not manage topics")
            self._forum[chat_id] = usable
        return self._forum[chat_id]

    async def place(self, ticket_id: int, *, again: bool = False) -> Ticket:
        """The ticket with its topic and card in the chat, made now if they are not there yet
        (``again``: the topic is gone; a new one gets the card and the transcript summary).

        The ticket's row stays locked while the topic is made, so two workers never make two
        topics for one ticket; a crash in between makes it again on the outbox's next try.
        """
        chat_id = await self.chat_id()
        usable = await self.topics_usable(chat_id)  # asked (and owners told) before locking
        async with self.sessions() as session, session.begin():
            ticket = await session.get(Ticket, ticket_id, with_for_update=True)
            assert ticket is not None
            if ticket.card_message_id and ticket.chat_id == chat_id and not again:
                return ticket
            name = await customer_name(session, ticket)
            screen = await card(session, ticket)
            thread: int | None = None
            if usable:
                topic = await self.bot.create_forum_topic(chat_id, topic_title(ticket, name))
                thread = topic.message_thread_id
            sent = await self.bot.send_message(
                chat_id, screen.text, message_thread_id=thread, reply_markup=inline_keyboard(screen)
            )
            ticket.chat_id, ticket.thread_id = chat_id, thread or 0
            ticket.card_message_id = sent.message_id
            if again:
                await self.bot.send_message(
                    chat_id, (await summary(session, ticket))[:4000], message_thread_id=thread
                )
            await support_chat.clear_problem(session, self.configured)
            return ticket

    async def post(self, ticket_id: int, send: Post | None) -> Message | None:
        """Post for the ticket in its place (made first if need be; ``send`` None: only
        that), through the chat's changes of fortune."""
        for _ in range(3):
            try:
                ticket = await self.place(ticket_id)
                if send is None:
                    return None
                reply_to = None if ticket.thread_id else ticket.card_message_id
                return await send(ticket.chat_id, ticket.thread_id or None, reply_to)
            except TelegramMigrateToChat as error:
                await self.follow(error.migrate_to_chat_id)
            except TelegramBadRequest as error:
                if THREAD_GONE not in error.message:
                    await self._maybe_rights(error)
                    raise
                log.info("ticket %s: its topic is gone; making it again", ticket_id)
                await self.place(ticket_id, again=True)
            except TelegramForbiddenError as error:
                await self._problem(error.message)
                raise
        raise RuntimeError(f"ticket {ticket_id}: no place in the moderator chat")

    async def follow(self, new_id: int) -> None:
        log.warning("moderator chat %s became the supergroup %s", self.configured, new_id)
        async with self.sessions() as session, session.begin():
            await support_chat.follow_migration(session, self.configured, new_id)

    async def refresh(self, ticket_id: int) -> None:
        """The status shown again: the topic's title and the card."""
        async with self.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            if not ticket.card_message_id:
                return
            name = await customer_name(session, ticket)
            screen = await card(session, ticket)
        try:
            if ticket.thread_id:
                await self.bot.edit_forum_topic(
                    ticket.chat_id, ticket.thread_id, name=topic_title(ticket, name)
                )
            await self.bot.edit_message_text(
                screen.text,
                chat_id=ticket.chat_id,
                message_id=ticket.card_message_id,
                reply_markup=inline_keyboard(screen),
            )
        except TelegramBadRequest as error:  # not modified, or the topic is gone: kept as is
            log.info("ticket %s: status not shown (%s)", ticket_id, error.message)

    async def _maybe_rights(self, error: TelegramBadRequest) -> None:
        if any(reason.lower() in error.message.lower() for reason in NO_RIGHTS):
            await self._problem(error.message)

    async def _problem(self, problem: str) -> None:
        """Tell the owners in their private chats, once per problem."""
        log.error("moderator chat %s: %s", self.configured, problem)
        self._forum.clear()
        async with self.sessions() as session, session.begin():
            if not await support_chat.note_problem(session, self.configured, problem):
                return
            text = t(LANG, "chat.problem", chat=self.configured, problem=problem)
            for owner in self.owners:
                outbox.enqueue(
                    session,
                    "screen",
                    {"screen": screen_to_payload(Screen(text))},
                    recipient=str(owner),
                )
