"""Delivering the outbox: claim due messages, send each outside any transaction, record it.

A message goes to the customer's most recently used reachable account whose messenger is on.
A person who blocked the bot is marked unreachable and the message is not retried forever.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.pacing import Pacer
from handlers.notifications import render_notification
from handlers.screens import Screen
from shop import outbox
from shop.accounts import AccountRef, Channel, parse_account
from shop.customers import mark_unreachable, reachable_accounts
from shop.models import OutboxMessage

log = logging.getLogger(__name__)


Accounts = dict[int, list[tuple[AccountRef, str]]]


class Unreachable(Exception):
    """The person blocked the bot or the chat is gone."""


class RetryLater(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class Sender(Protocol):
    async def send(self, external_id: int, screen: Screen) -> None: ...


@dataclass
class Outcome:
    message: OutboxMessage
    error: str | None = None
    retry_after: float | None = None
    give_up: bool = False
    unreachable: AccountRef | None = None


class OutboxDelivery:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: dict[Channel, Sender],
        pacer: Pacer | None = None,
        batch: int = 50,
        moderator_chat: AccountRef | None = None,
    ) -> None:
        self.sessions = sessions
        self.senders = senders
        self.moderator_chat = moderator_chat
        self.pacer = pacer or Pacer()
        self.batch = batch

    async def run_once(self) -> int:
        """Deliver one batch of due messages; return how many were claimed."""
        async with self.sessions() as session, session.begin():
            messages = await outbox.claim_due(session, self.batch)
            customers = [m.customer_id for m in messages if m.customer_id is not None]
            accounts = await reachable_accounts(session, customers) if customers else {}
        outcomes = [await self._deliver(message, accounts) for message in messages]
        if outcomes:
            await self._record(outcomes)
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
        targets = self._targets(message, accounts)
        if not targets:
            return Outcome(message, "no reachable account", give_up=True)
        target, language = targets[0]
        screen = render_notification(message.kind, message.payload, language)
        if screen is None:
            return Outcome(message, f"unknown kind {message.kind}", give_up=True)
        sender = self.senders.get(target.channel)
        if sender is None:
            return Outcome(message, f"{target.channel} is off", give_up=True)
        await self.pacer.wait(str(target))
        try:
            await sender.send(target.external_id, screen)
        except Unreachable as error:
            return Outcome(message, f"unreachable: {error}", give_up=True, unreachable=target)
        except RetryLater as error:
            return Outcome(message, "rate limited", retry_after=error.seconds)
        except Exception as error:  # network trouble and the like: try again later
            log.warning("outbox message %s to %s failed: %r", message.id, target, error)
            return Outcome(message, repr(error))
        return Outcome(message)

    async def _record(self, outcomes: list[Outcome]) -> None:
        async with self.sessions() as session, session.begin():
            for outcome in outcomes:
                message = outcome.message
                if outcome.unreachable is not None:
                    await mark_unreachable(session, outcome.unreachable)
                if outcome.error is None:
                    await outbox.mark_sent(session, message.id)
                elif outcome.give_up:
                    await outbox.mark_failed(session, message.id, outcome.error)
                else:
                    await outbox.mark_retry(
                        session, message.id, outcome.error, message.attempts, outcome.retry_after
                    )
