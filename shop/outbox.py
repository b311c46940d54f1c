"""The outbox: messages written with the change they report, delivered later with retries.

Writers call `enqueue` inside their transaction. A dispatcher (in bot/) claims due rows with
`claim_due` (FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers never take the same row),
sends them outside any transaction, then records each outcome at once in its own transaction.
A message that fails MAX_ATTEMPTS times is dead-lettered and staff are told.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.models import OutboxMessage, OutboxStatus
from shop.models.types import utcnow

log = logging.getLogger(__name__)

MODERATORS = "moderators"
"""Recipient of messages for staff: delivered to the MODERATOR_CHAT."""
CLAIM_LEASE = timedelta(minutes=2)
LEASED = "claimed by a sender"
"""``last_error`` of a message claimed and not yet recorded: after a crash, `release_leases`
finds it (the sole sending process may send it again at once instead of after the lease)."""
MAX_ATTEMPTS = 8
DEAD = OutboxStatus.DEAD
"""Status of a message whose tries ran out: kept for staff, never claimed again."""
STAFF_ALERT = "staff_alert"
STOPPING = "the sending worker kept stopping"


def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    customer_id: int | None = None,
    recipient: str = "customer",
) -> OutboxMessage:
    """Add a message to the current transaction; it exists only if that transaction commits."""
    message = OutboxMessage(
        kind=kind, payload=payload, customer_id=customer_id, recipient=recipient
    )
    session.add(message)
    return message


async def claim_due(
    session: AsyncSession, limit: int = 50, now: datetime | None = None
) -> list[OutboxMessage]:
    """Take up to ``limit`` due messages and lease them so no other worker sends them too.

    A worker that dies mid-send leaves its lease to run out; the message is then due again,
    and a message whose every try ended that way is dead-lettered here instead of claimed.
    """
    now = now or utcnow()
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = []
    for message in (await session.execute(query)).scalars():
        if message.attempts >= MAX_ATTEMPTS:
            error = message.last_error
            dead_letter(session, message, error if error and error != LEASED else STOPPING)
            continue
        message.attempts += 1
        message.next_attempt_at = now + CLAIM_LEASE
        message.last_error = LEASED
        claimed.append(message)
    await session.flush()
    return claimed


async def release_leases(session: AsyncSession) -> int:
    """Make every claimed, unrecorded message due now: for the one process that sends, when
    it starts (or takes over the sending role), since whoever claimed them is gone."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.last_error == LEASED)
        .values(next_attempt_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def mark_sent(session: AsyncSession, message_id: int) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=OutboxStatus.SENT, sent_at=utcnow(), last_error=None)
    )


async def mark_retry(
    session: AsyncSession,
    message_id: int,
    error: str,
    attempts: int,
    retry_after: float | None = None,
) -> None:
    """Try again later: after ``retry_after`` seconds if the API said so, else back off;
    the last allowed try failing dead-letters the message."""
    if attempts >= MAX_ATTEMPTS:
        message = await session.get(OutboxMessage, message_id)
        if message is not None:
            dead_letter(session, message, error)
        return
    delay = retry_after if retry_after is not None else retry_delay(attempts)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(next_attempt_at=utcnow() + timedelta(seconds=delay), last_error=error[:1000])
    )


def retry_delay(attempts: int) -> float:
    """Seconds before the next try of a message that failed ``attempts`` times."""
    return float(min(2**attempts, 600))


async def postpone(session: AsyncSession, message_id: int, seconds: float, reason: str) -> None:
    """Send later without counting a try: the messenger asked to slow down (a 429), which
    is pacing, not a failure."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            attempts=OutboxMessage.attempts - 1,
            next_attempt_at=utcnow() + timedelta(seconds=seconds),
            last_error=reason[:1000],
        )
    )


async def mark_failed(session: AsyncSession, message_id: int, error: str) -> None:
    """Give up on a message that cannot be delivered (the person blocked the bot)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=OutboxStatus.FAILED, last_error=error[:1000])
    )


def dead_letter(session: AsyncSession, message: OutboxMessage, error: str) -> None:
    """Set the message aside for good and tell staff, in the caller's transaction.

    A message for the moderators is only logged: an alert about it would take the same
    road (and an alert about a failed alert could loop).
    """
    message.status = DEAD
    message.last_error = error[:1000]
    log.error(
        "outbox message %s (%s to %s) dead after %s tries: %s",
        message.id,
        message.kind,
        message.recipient,
        message.attempts,
        error,
    )
    if message.kind == STAFF_ALERT or message.recipient == MODERATORS:
        return
    recipient = message.recipient
    if recipient == "customer":
        recipient = f"customer {message.customer_id}"
    enqueue(
        session,
        STAFF_ALERT,
        {
            "reason": "undelivered",
            "message_id": message.id,
            "kind": message.kind,
            "recipient": recipient,
            "attempts": message.attempts,
            "error": error[:300],
        },
        recipient=MODERATORS,
    )
