"""Dropping updates that arrive twice (a webhook retried, a poll repeated after a crash)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shop.models import ProcessedUpdate
from shop.models.types import utcnow

KEEP_FOR = timedelta(days=2)


async def first_time(session: AsyncSession, source: str, update_id: str | int) -> bool:
    """Record the update id; False if it was seen before (then handle nothing).

    Call inside the transaction that handles the update, so a crash before commit lets the
    redelivered update through again.
    """
    try:
        async with session.begin_nested():
            session.add(ProcessedUpdate(source=source, update_id=str(update_id)))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def forget_old(session: AsyncSession, now: datetime | None = None) -> None:
    cutoff = (now or utcnow()) - KEEP_FOR
    await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.received_at < cutoff))
