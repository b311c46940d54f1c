"""Dropping updates that arrive twice (a webhook retried, a poll repeated after a crash)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import CONFLICT_INSERTS
from shop.models import ProcessedUpdate
from shop.models.types import utcnow

KEEP_FOR = timedelta(days=2)


# Per dialect: record an update id unless it is there (PostgreSQL's also rides in the
# sender lookup, see shop.customers.receive_update).
RECORD = {
    dialect: insert(ProcessedUpdate.__table__)
    .values(
        source=bindparam("source"),
        update_id=bindparam("update_id"),
        received_at=bindparam("received_at"),
    )
    .on_conflict_do_nothing()
    for dialect, insert in CONFLICT_INSERTS.items()
}


async def first_time(session: AsyncSession, source: str, update_id: str | int) -> bool:
    """Record the update id; False if it was seen before (then handle nothing).

    Call inside the transaction that handles the update, so a crash before commit lets the
    redelivered update through again. One INSERT ... ON CONFLICT DO NOTHING, no savepoint.
    """
    result = await session.execute(
        RECORD[session.get_bind().dialect.name],
        {"source": source, "update_id": str(update_id), "received_at": utcnow()},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def forget_old(session: AsyncSession, now: datetime | None = None) -> None:
    cutoff = (now or utcnow()) - KEEP_FOR
    await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.received_at < cutoff))
