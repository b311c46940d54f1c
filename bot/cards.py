"""Staff chats: order cards posted and kept up to date, and alerts for the staff.

Messages for the moderators go to the moderator chat, or without one to each staff
member's and owner's private chat (OWNERS, STAFF and the staff table). An ``order_card``
message is drawn from the order as it is now: it posts a new card where it says so
(recording each posted message, so a retried post skips the chats it reached) and edits
every card of the order posted before, so a card always shows its order's latest state.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.desk import order_card
from handlers.notifications import render_notification
from handlers.screens import Screen
from handlers.texts import t
from shop.accounts import AccountRef, Channel
from shop.cards import CARD
from shop.models import OutboxMessage, PostedCard, StaffMember
from shop.roles import Roster

log = logging.getLogger(__name__)


async def staff_chats(session: AsyncSession, roster: Roster) -> list[AccountRef]:
    """Every staff member's and owner's private chat: the settings' and the staff table's."""
    stored = await session.execute(select(StaffMember.channel, StaffMember.external_id))
    found = {*roster.owners, *roster.staff}
    found.update(AccountRef(Channel(channel), external_id) for channel, external_id in stored)
    return sorted(found, key=str)


class StaffPost:
    """Delivers one outbox message meant for the moderators (`bot.delivery` hands it over)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[Channel, Any],
        moderator_chat: AccountRef | None,
        roster: Roster,
    ) -> None:
        self.sessions = sessions
        self.senders = senders
        self.moderator_chat = moderator_chat
        self.roster = roster

    def takes(self, message: OutboxMessage) -> bool:
        return message.kind == CARD or self.moderator_chat is None

    async def deliver(self, message: OutboxMessage) -> bool:
        """Post or refresh; raises the senders' errors (`Unreachable`, `RetryLater`...) of
        a post, so the message is tried again; a failed edit is only logged. False: there
        was something to post and no staff chat to post it in."""
        async with self.sessions() as session:
            chats = await self._chats(session)
            if message.kind != CARD:
                screen = render_notification(message.kind, message.payload, "ru")
                posted: list[PostedCard] = []
                done: set[tuple[str, int]] = set()
            else:
                screen, posted = await self._card(session, message)
                done = {(c.channel, c.chat_id) for c in posted if c.outbox_id == message.id}
        if screen is None:
            return True
        fresh: set[tuple[str, int]] = set()
        if message.kind != CARD or message.payload.get("post"):
            if not chats:
                return False
            for chat in chats:
                fresh.add((chat.channel.value, chat.external_id))
                if (chat.channel.value, chat.external_id) not in done:
                    await self._post(message, chat, screen)
        for card in posted:
            # a chat that just got a new card of the order keeps the older one as it was
            if card.outbox_id != message.id and (card.channel, card.chat_id) not in fresh:
                await self._edit(card, screen)
        return True

    async def _chats(self, session: AsyncSession) -> list[AccountRef]:
        chats = (
            [self.moderator_chat]
            if self.moderator_chat
            else await staff_chats(session, self.roster)
        )
        return [chat for chat in chats if chat.channel in self.senders]

    async def _card(
        self, session: AsyncSession, message: OutboxMessage
    ) -> tuple[Screen, list[PostedCard]]:
        order_id = int(message.payload["order_id"])
        headline = None
        if message.payload.get("post"):
            headline = t("ru", f"desk.head.{message.payload.get('reason')}")
        screen = await order_card(session, order_id, "ru", headline)
        posted = list(
            (
                await session.execute(select(PostedCard).where(PostedCard.order_id == order_id))
            ).scalars()
        )
        return screen, posted

    async def _post(self, message: OutboxMessage, chat: AccountRef, screen: Screen) -> None:
        sender = self.senders[chat.channel]
        key = f"outbox/{message.id}/{chat}"
        if message.kind != CARD or not hasattr(sender, "post_card"):
            await sender.send(chat.external_id, screen, key=key)
            return
        message_id = await sender.post_card(chat.external_id, screen, key=key)
        async with self.sessions() as session, session.begin():
            session.add(
                PostedCard(
                    order_id=int(message.payload["order_id"]),
                    channel=chat.channel.value,
                    chat_id=chat.external_id,
                    message_id=message_id,
                    outbox_id=message.id,
                )
            )

    async def _edit(self, card: PostedCard, screen: Screen) -> None:
        sender = self.senders.get(Channel(card.channel))
        if sender is None or not hasattr(sender, "edit_card"):
            return
        try:
            await sender.edit_card(card.chat_id, card.message_id, screen)
        except Exception as error:  # an old card that cannot be edited stays as it was
            log.info("could not edit card %s of order %s: %r", card.id, card.order_id, error)
