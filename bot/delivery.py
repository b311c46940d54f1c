"""Delivering the outbox: claim due messages, send each outside any transaction, record it.

A message goes to the customer's most recently used reachable account whose messenger is on.
Messages go one at a time, each rendered and sent on its own and its outcome committed right
after the send, so a bad message never holds back the others and a crash repeats at most the
one in flight (VK drops even that: the random_id comes from the message id). The next one
sent is the first of the batch whose chat is free (bot/pacing.py), so a chat that must wait
never holds up the others; every send takes its place in the send budget (bot/budget.py),
shared with the direct replies. A person who blocked the bot is marked unreachable; a 429
holds that chat (VK's "too many requests": all of VK) while the others go on.

Only a process with the sending role delivers (bot/sending_role.py); the others leave the
outbox to it.

Replies that could not go out through a fault are handed over here (`hand_over`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import budget, logs, metrics, patience
from bot.budget import Rate
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
LONGEST_WAIT = 1.5
"""A chat not free within this many seconds has its messages of the batch sent later."""
AFTER_THE_HELD = 0.01
"""A message put back because its chat is held is due this much after the hold ends, so
the message that met the 429 (due right at its end) goes first: a chat keeps its order."""


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


@dataclass(frozen=True)
class Target:
    """Where one message goes, in which language, and how fast that chat may be sent to."""

    account: AccountRef
    language: str
    rate: Rate | None


@dataclass
class Outcome:
    error: str | None = None
    retry_after: float | None = None
    until: float | None = None
    """Instead of ``retry_after``: the time.monotonic() the message is due again."""
    give_up: bool = False
    paced: bool = False
    unreachable: AccountRef | None = None

    def wait(self) -> float | None:
        """Seconds until the message is due again, if its outcome says."""
        if self.until is not None:
            return max(0.0, self.until - time.monotonic())
        return self.retry_after


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
        self.sessions = sessions
        self.senders = senders
        self.moderator_chat = moderator_chat
        self.pacer = pacer or Pacer()
        self.batch = batch
        self.couriers = dict(couriers or {})
        """Outbox kinds delivered by a courier of their own instead of as a Screen."""
        self.staff = StaffPost(sessions, senders, moderator_chat, roster or Roster())
        """Order cards (posted, then edited in place) and staff alerts without a group."""

    async def run_once(self) -> int:
        """Deliver one batch of due messages; return how many were claimed. Each messenger's
        share goes one message at a time, the messengers side by side."""
        async with self.sessions() as session, session.begin():
            messages = await outbox.claim_due(session, self.batch)
            customers = [m.customer_id for m in messages if m.customer_id is not None]
            accounts = await reachable_accounts(session, customers) if customers else {}
        lanes: dict[str, list[tuple[OutboxMessage, Target | Outcome]]] = {}
        for message in messages:
            target = self._target(message, accounts)
            lane = target.account.channel.value if isinstance(target, Target) else ""
            lanes.setdefault(lane, []).append((message, target))
        await asyncio.gather(*(self._send_in_turn(waiting) for waiting in lanes.values()))
        return len(messages)

    async def _send_in_turn(self, waiting: list[tuple[OutboxMessage, Target | Outcome]]) -> None:
        """Send one at a time, each recorded before the next goes: a crash repeats one."""
        while waiting:
            if not budget.sending():  # the role was lost: the next holder sends the rest
                for message, _ in waiting:
                    await self._record(message, Outcome(RATE_LIMITED, retry_after=0, paced=True))
                return
            index, wait = self._next(waiting)
            if index is None:
                await asyncio.sleep(wait)
                continue
            message, target = waiting.pop(index)
            order = (message.payload or {}).get("order_id")
            with logs.naming(customer=message.customer_id, order=order):
                await self._record(message, await self._deliver(message, target))

    def _next(
        self, waiting: list[tuple[OutboxMessage, Target | Outcome]]
    ) -> tuple[int | None, float]:
        """The first message whose chat is free (or that will not be sent now anyway), else
        how long until a chat is free. A chat's later messages wait for its first."""
        seen: set[str] = set()
        soonest = LONGEST_WAIT
        for index, (_, target) in enumerate(waiting):
            if isinstance(target, Outcome):
                return index, 0.0
            chat = str(target.account)
            if chat in seen:
                continue
            seen.add(chat)
            free = self.pacer.free_in(chat, target.rate)
            if free > LONGEST_WAIT:
                self.pacer.hold(chat, free)  # this and later ones go back to the outbox
            if free == 0 or free > LONGEST_WAIT:
                return index, 0.0
            soonest = min(soonest, free)
        return None, soonest

    async def run_forever(self, idle: float = 0.5) -> None:
        while True:
            try:
                claimed = await self.run_once() if budget.sending() else 0
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox delivery round failed")
                claimed = 0
            if claimed < self.batch:
                await asyncio.sleep(idle)

    def _target(self, message: OutboxMessage, accounts: Accounts) -> Target | Outcome:
        """Where the message goes: the moderator chat, a named chat, or the customer's
        most recently used reachable account on a messenger that is on."""
        try:
            if message.recipient == outbox.MODERATORS:
                found = [(self.moderator_chat, "ru")] if self.moderator_chat else []
            elif message.recipient != "customer":
                found = [(parse_account(message.recipient), "ru")]
            else:
                known = accounts.get(message.customer_id or 0, [])
                found = [(ref, lang) for ref, lang in known if ref.channel in self.senders]
        except Exception as error:  # a recipient this version cannot read
            return Outcome(repr(error), give_up=True)
        if not found:
            return Outcome("no reachable account", give_up=True)
        account, language = found[0]
        if self.senders.get(account.channel) is None:
            return Outcome(f"{account.channel} is off", give_up=True)
        rate = (
            budget.chat_rate(account.external_id) if account.channel is Channel.TELEGRAM else None
        )
        return Target(account, language, rate)

    async def _deliver(self, message: OutboxMessage, target: Target | Outcome) -> Outcome:
        """Render and send one message; whatever goes wrong is this message's outcome."""
        if message.recipient == outbox.MODERATORS and self.staff.takes(message):
            return await self._post_for_staff(message)
        if isinstance(target, Outcome):
            return target
        account = target.account
        chat = str(account)
        courier = self.couriers.get(message.kind)
        screen = None
        try:
            if courier is None:
                screen = render_notification(message.kind, message.payload, target.language)
        except Exception as error:  # a message this version cannot render: not the chat's fault
            log.warning("outbox message %s cannot be rendered: %r", message.id, error)
            return Outcome(repr(error))
        if screen is None and courier is None:
            return Outcome(f"unknown kind {message.kind}", give_up=True)
        try:
            held = self.pacer.held_until(chat, account.channel.value, message=message.id)
            if held > time.monotonic():
                return Outcome(RATE_LIMITED, until=held + AFTER_THE_HELD, paced=True)
            self.pacer.sent(chat, target.rate)
            with patience.outbox_send():
                if courier is not None:
                    await courier.deliver(message)
                else:
                    assert screen is not None
                    await self.senders[account.channel].send(
                        account.external_id, screen, key=_resend_key(message)
                    )
        except Unreachable as error:
            return Outcome(f"unreachable: {error}", give_up=True, unreachable=account)
        except RetryLater as error:
            key = account.channel.value if error.everyone else chat
            return Outcome(RATE_LIMITED, until=self.pacer.hold(key, error.seconds), paced=True)
        except Exception as error:  # network trouble, the messenger failing
            log.warning("outbox message %s to %s failed: %r", message.id, account, error)
            if message.attempts >= outbox.MAX_ATTEMPTS:
                return Outcome(repr(error))  # dead-lettered: nothing to wait for
            # the chat's later messages wait for this one's next try: they keep their order
            delay = outbox.retry_delay(message.attempts)
            until = self.pacer.hold(chat, delay, behind=message.id)
            return Outcome(repr(error), until=until)
        return Outcome()

    async def _post_for_staff(self, message: OutboxMessage) -> Outcome:
        """A card or alert for staff: to the moderator chat, or each staff member's chat."""
        try:
            with patience.outbox_send():
                posted = await self.staff.deliver(message)
        except RetryLater as error:
            return Outcome(RATE_LIMITED, retry_after=error.seconds, paced=True)
        except Exception as error:
            log.warning("staff message %s failed: %r", message.id, error)
            return Outcome(repr(error))
        return Outcome() if posted else Outcome("no staff chat", give_up=True)

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
                wait = outcome.wait()
                await outbox.postpone(
                    session, message.id, 1.0 if wait is None else wait, outcome.error
                )
            else:
                await outbox.mark_retry(
                    session, message.id, outcome.error, message.attempts, outcome.wait()
                )


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
    # a process without the sending role hands every reply over: that is its normal work
    level = logging.INFO if isinstance(reason, budget.HandOver) else logging.WARNING
    log.log(level, "%d screen(s) for %s handed to the outbox after %r", queued, account, reason)
