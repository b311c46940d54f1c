"""Delivering the outbox: claim due messages, send each outside any transaction, record it.

A message goes to the customer's most recently used reachable account whose messenger is on.
Each message is rendered and sent on its own and its outcome committed right after the send,
so a bad message never holds back the others and a crash repeats at most the one in flight
(VK drops even that: the random_id comes from the message id). A person who blocked the bot
is marked unreachable; a 429 holds that chat in the Pacer while the others go on.

Replies that could not go out through a fault are handed over here (`hand_over`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import logs, metrics, patience
from bot.cards import StaffPost
from bot.pacing import Pacer
from handlers.notifications import render_notification
from handlers.screens import Screen, screen_to_payload
from shop import outbox
from shop.accounts import AccountRef, Channel, parse_account
from shop.customers import mark_unreachable, reachable_accounts
from shop.models import OutboxMessage
from shop.models.types import utcnow
from shop.roles import Roster

log = logging.getLogger(__name__)

Accounts = dict[int, list[tuple[AccountRef, str]]]
RATE_LIMITED = "rate limited"


class Unreachable(Exception):
    """The person blocked the bot or the chat is gone."""


class RetryLater(Exception):
    """The messenger asked to slow down: this chat, or all its chats when ``everyone``."""

    def __init__(self, seconds: float, *, everyone: bool = False) -> None:
        super().__init__(seconds)
        self.seconds = seconds
        self.everyone = everyone


class Courier(Protocol):
    """Delivers outbox messages of its own kinds (support tickets: bot/support_relay.py)."""

    async def deliver(self, message: OutboxMessage) -> None: ...


class Sender(Protocol):
    """What delivers to one channel: its front-end (`bot.frontend.Frontend.send`)."""

    async def send(self, external_id: int, screen: Screen, *, key: str) -> None:
        """Send one screen; ``key`` is the same for every try of one message (VK drops a
        repeat of it)."""
        ...


@dataclass
class Outcome:
    error: str | None = None
    retry_after: float | None = None
    give_up: bool = False
    paced: bool = False
    unreachable: AccountRef | None = None


class OutboxDelivery:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[Channel, Sender],
        pacer: Pacer | None = None,
        batch: int = 50,
        moderator_chat: AccountRef | None = None,
        roster: Roster | None = None,
        couriers: Mapping[str, Courier] | None = None,
    ) -> None:
        self.couriers = dict(couriers or {})
        """Outbox kinds delivered by a courier of their own instead of as a Screen."""
        self.sessions = sessions
        self.senders = senders
        self.moderator_chat = moderator_chat
        self.pacer = pacer or Pacer()
        self.batch = batch
        self.staff = StaffPost(sessions, senders, self.pacer, moderator_chat, roster or Roster())

    async def run_once(self) -> int:
        """Deliver one batch of due messages; return how many were claimed."""
        async with self.sessions() as session, session.begin():
            messages = await outbox.claim_due(session, self.batch)
            customers = [m.customer_id for m in messages if m.customer_id is not None]
            accounts = await reachable_accounts(session, customers) if customers else {}
        for message in messages:
            order = (message.payload or {}).get("order_id")
            with logs.naming(customer=message.customer_id, order=order):
                await self._record(message, await self._deliver(message, accounts))
        return len(messages)

    async def run_forever(self, idle: float = 1.0) -> None:
        while True:
            try:
                claimed = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox delivery round failed")
                claimed = 0
            if claimed < self.batch:
                await asyncio.sleep(idle)

    def _targets(self, message: OutboxMessage, accounts: Accounts) -> list[tuple[AccountRef, str]]:
        """Where the message goes: the moderator chat, a named chat, or the customer's
        most recently used reachable account on a messenger that is on."""
        if message.recipient == outbox.MODERATORS:
            return [(self.moderator_chat, "ru")] if self.moderator_chat else []
        if message.recipient != "customer":
            return [(parse_account(message.recipient), "ru")]
        known = accounts.get(message.customer_id or 0, [])
        return [(ref, language) for ref, language in known if ref.channel in self.senders]

    async def _deliver(self, message: OutboxMessage, accounts: Accounts) -> Outcome:
        """Render and send one message; whatever goes wrong is this message's outcome."""
        target: AccountRef | None = None
        try:
            if message.recipient == outbox.MODERATORS and self.staff.takes(message):
                if await self.staff.deliver(message):  # cards; staff chats without a group
                    return Outcome()
                return Outcome("no staff chat", give_up=True)
            targets = self._targets(message, accounts)
            if not targets:
                return Outcome("no reachable account", give_up=True)
            target, language = targets[0]
            sender = self.senders.get(target.channel)
            if sender is None:
                return Outcome(f"{target.channel} is off", give_up=True)
            courier = self.couriers.get(message.kind)
            screen = render_notification(message.kind, message.payload, language)
            if screen is None and courier is None:
                return Outcome(f"unknown kind {message.kind}", give_up=True)
            held = self.pacer.held_for(str(target), target.channel.value)
            if held > 0:
                return Outcome(RATE_LIMITED, retry_after=held, paced=True)
            await self.pacer.wait(str(target))
            with patience.outbox_send():
                if courier is not None:
                    await courier.deliver(message)
                else:
                    assert screen is not None
                    await sender.send(target.external_id, screen, key=_resend_key(message))
        except Unreachable as error:
            return Outcome(f"unreachable: {error}", give_up=True, unreachable=target)
        except RetryLater as error:
            assert target is not None
            self.pacer.hold(target.channel.value if error.everyone else str(target), error.seconds)
            return Outcome(RATE_LIMITED, retry_after=error.seconds, paced=True)
        except Exception as error:  # network trouble, a message this version cannot render...
            log.warning("outbox message %s to %s failed: %r", message.id, target, error)
            return Outcome(repr(error))
        return Outcome()

    async def _record(self, message: OutboxMessage, outcome: Outcome) -> None:
        metrics.sent(outcome.error, paced=outcome.paced, blocked=outcome.unreachable is not None)
        async with self.sessions() as session, session.begin():
            if outcome.unreachable is not None:
                await mark_unreachable(session, outcome.unreachable)
            if outcome.error is None:
                await outbox.mark_sent(session, message.id)
            elif outcome.give_up:
                await outbox.mark_failed(session, message.id, outcome.error)
            elif outcome.paced:
                await outbox.postpone(
                    session, message.id, outcome.retry_after or 1.0, outcome.error
                )
            else:
                await outbox.mark_retry(session, message.id, outcome.error, message.attempts)


def _resend_key(message: OutboxMessage) -> str:
    """The same for every try of the message: the handed-over reply's own key if it has
    one (a try before the hand-over may have gone through), else the message's id."""
    return str(message.payload.get("resend_key") or f"outbox/{message.id}")


async def hand_over(
    sessions: async_sessionmaker[AsyncSession],
    account: AccountRef,
    screens: Sequence[Screen],
    reason: BaseException,
    keys: Sequence[str | None] = (),
    wait: float | None = None,
) -> None:
    """Queue the screens of a reply that could not go out (the messenger kept failing), in
    order, for the outbox to deliver to ``account``; written in a short transaction of its
    own. ``keys``, one per screen, are what the reply's own tries used against repeats;
    ``wait`` is how long the messenger asked to be left alone (a 429)."""
    queued = 0
    not_before = utcnow() + timedelta(seconds=wait) if wait else None
    async with sessions() as session, session.begin():
        for index, screen in enumerate(screens):
            if screen.pay is not None:
                log.warning("a payment for %s is dropped: it is made afresh on request", account)
                continue
            payload: dict[str, object] = {"screen": screen_to_payload(screen)}
            key = keys[index] if index < len(keys) else None
            if key:
                payload["resend_key"] = key
            message = outbox.enqueue(session, "screen", payload, recipient=str(account))
            if not_before is not None:
                message.next_attempt_at = not_before
            queued += 1
    log.warning("%d screen(s) for %s handed to the outbox after %r", queued, account, reason)
