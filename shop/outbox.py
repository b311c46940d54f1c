"""The outbox: messages written with the change they report, delivered later with retries.

Writers call `enqueue` inside their transaction. A dispatcher (in bot/) claims due rows with
`claim_due` (FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers never take the same row),
sends them outside any transaction, then records the outcome.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.models import OutboxMessage, OutboxStatus
from shop.models.types import utcnow

MODERATORS = "moderators"
"""Recipient of messages for staff: delivered to the MODERATOR_CHAT."""
CLAIM_LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8


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

    A worker that dies mid-send leaves its lease to run out; the message is then due again.
    """
    now = now or utcnow()
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    messages = list((await session.execute(query)).scalars())
    for message in messages:
        message.attempts += 1
        message.next_attempt_at = now + CLAIM_LEASE
    await session.flush()
    return messages


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
    """Try again later: after ``retry_after`` seconds if the API said so, else back off."""
    if attempts >= MAX_ATTEMPTS:
        await mark_failed(session, message_id, error)
        return
    delay = retry_after if retry_after is not None else min(2**attempts, 600)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(next_attempt_at=utcnow() + timedelta(seconds=delay), last_error=error[:1000])
    )


async def mark_failed(session: AsyncSession, message_id: int, error: str) -> None:
    """Give up on a message (the person blocked the bot, or retries ran out)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=OutboxStatus.FAILED, last_error=error[:1000])
    )
