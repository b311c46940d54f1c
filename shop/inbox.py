"""The inbox: every incoming event is stored before it is acknowledged, then handled once.

An adapter calls `store` and commits before it tells the platform the event arrived (moves
the polling offset, answers the webhook). Whoever handles an event calls `take` inside the
transaction that applies its effects: the row turns done only if that transaction commits,
so a crash leaves it pending and it is handled again; a replay of a done row changes nothing.

A ``lane`` (a person's account, a payment) is handled one event at a time, in arrival order,
across every worker process: `take` refuses a row while an earlier one of its lane is still
pending, and on PostgreSQL a second worker taking the same row waits for the first one's
transaction, then sees it done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import CONFLICT_INSERTS, table_of
from shop.models import InboxEvent, InboxStatus, PollPosition
from shop.models.types import utcnow

KEEP_DONE_FOR = timedelta(days=2)
"""How long handled rows stay, so a redelivered event is recognised and dropped."""
KEEP_PARKED_FOR = timedelta(days=30)
MAX_ATTEMPTS = 3
"""Tries before a failing event is parked (transient database faults do not count)."""
RETRY_DELAYS = (0.5, 2.0)

_inbox = table_of(InboxEvent)
_earlier = _inbox.alias("earlier")


@dataclass(frozen=True)
class Arrival:
    """An event as it came: where from, its platform id, whose lane, the raw body."""

    source: str
    event_id: str
    lane: str
    payload: dict[str, Any]
    parsed: Any = None
    """The adapter's parsed form, kept in memory so the fast path does not parse twice."""


@dataclass
class Entry:
    """A stored event waiting to be handled."""

    id: int
    source: str
    lane: str
    payload: dict[str, Any]
    attempts: int = 0
    parsed: Any = None
    taken: bool = field(default=False, compare=False)
    """Set by `take` once this handler owns the row (its effects commit with it)."""


_STORE = {
    dialect: insert(_inbox)
    .values(
        source=bindparam("source"),
        event_id=bindparam("event_id"),
        lane=bindparam("lane"),
        payload=bindparam("payload"),
        status=InboxStatus.PENDING.value,
        attempts=0,
        next_attempt_at=bindparam("due"),
        received_at=bindparam("received"),
    )
    .on_conflict_do_nothing()
    .returning(_inbox.c.id, _inbox.c.source, _inbox.c.event_id)
    for dialect, insert in CONFLICT_INSERTS.items()
}


async def store(session: AsyncSession, arrivals: Sequence[Arrival]) -> list[Entry]:
    """Add events to the current transaction (one statement for the lot); return the new
    ones in arrival order (duplicates of stored events are dropped)."""
    if not arrivals:
        return []
    now = utcnow()
    params = [
        {
            "source": a.source,
            "event_id": a.event_id,
            "lane": a.lane,
            "payload": a.payload,
            "due": now,
            "received": now,
        }
        for a in arrivals
    ]
    result = await session.execute(_STORE[session.get_bind().dialect.name], params)
    new = {(row.source, row.event_id): row.id for row in result}
    return [
        Entry(new[key], a.source, a.lane, a.payload, parsed=a.parsed)
        for a in arrivals
        if (key := (a.source, a.event_id)) in new
    ]


_TAKE = (
    update(_inbox)
    .where(
        _inbox.c.id == bindparam("b_id"),
        _inbox.c.status == InboxStatus.PENDING.value,
        ~exists().where(
            _earlier.c.lane == bindparam("b_lane"),
            _earlier.c.status == InboxStatus.PENDING.value,
            _earlier.c.id < bindparam("b_id"),
        ),
    )
    .values(status=InboxStatus.DONE.value, handled_at=bindparam("b_now"))
)


async def take(session: AsyncSession, entry: Entry) -> bool:
    """Claim ``entry`` in this transaction; False if it was handled already or an earlier
    event of its lane is still pending (then handle that one first: see `next_in_lane`)."""
    result = await session.execute(
        _TAKE, {"b_id": entry.id, "b_lane": entry.lane, "b_now": utcnow()}
    )
    entry.taken = bool(result.rowcount)  # type: ignore[attr-defined]
    return entry.taken


_ENTRY_COLUMNS = (
    _inbox.c.id,
    _inbox.c.source,
    _inbox.c.lane,
    _inbox.c.payload,
    _inbox.c.attempts,
    _inbox.c.next_attempt_at,
)
_NEXT_IN_LANE = (
    select(*_ENTRY_COLUMNS)
    .where(_inbox.c.lane == bindparam("lane"), _inbox.c.status == InboxStatus.PENDING.value)
    .order_by(_inbox.c.id)
    .limit(1)
)


async def next_in_lane(session: AsyncSession, lane: str) -> tuple[Entry, datetime] | None:
    """The lane's oldest pending event and when it may be tried, or None if none is left."""
    row = (await session.execute(_NEXT_IN_LANE, {"lane": lane})).first()
    if row is None:
        return None
    return Entry(row.id, row.source, row.lane, row.payload, row.attempts), row.next_attempt_at


async def waiting_lanes(
    session: AsyncSession, *, older_than: timedelta, limit: int = 200
) -> list[str]:
    """Lanes with a pending event that is due and older than ``older_than`` (left behind by
    a crash, a fault or another worker), oldest first."""
    now = utcnow()
    query = (
        select(_inbox.c.lane)
        .where(
            _inbox.c.status == InboxStatus.PENDING.value,
            _inbox.c.next_attempt_at <= now,
            _inbox.c.received_at <= now - older_than,
        )
        .group_by(_inbox.c.lane)
        .order_by(func.min(_inbox.c.id))
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def record_failure(session: AsyncSession, entry: Entry, error: str) -> bool:
    """Count a failed try; after MAX_ATTEMPTS park the row. True when it was parked."""
    attempts = entry.attempts + 1
    parked = attempts >= MAX_ATTEMPTS
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    values: dict[str, Any] = {"attempts": attempts, "last_error": error[:2000]}
    if parked:
        values["status"] = InboxStatus.PARKED.value
        values["handled_at"] = utcnow()
    else:
        values["next_attempt_at"] = utcnow() + timedelta(seconds=delay)
    await session.execute(
        update(_inbox)
        .where(_inbox.c.id == entry.id, _inbox.c.status == InboxStatus.PENDING.value)
        .values(values)
    )
    entry.attempts = attempts
    return parked


async def backlog(session: AsyncSession) -> int:
    """How many events wait to be handled."""
    query = select(func.count()).where(_inbox.c.status == InboxStatus.PENDING.value)
    return int((await session.execute(query)).scalar_one())


async def forget_old(session: AsyncSession, now: datetime | None = None) -> None:
    """Drop handled rows after KEEP_DONE_FOR and parked ones after KEEP_PARKED_FOR."""
    now = now or utcnow()
    await session.execute(
        delete(InboxEvent).where(
            and_(
                InboxEvent.status == InboxStatus.DONE.value,
                InboxEvent.received_at < now - KEEP_DONE_FOR,
            )
            | and_(
                InboxEvent.status == InboxStatus.PARKED.value,
                InboxEvent.received_at < now - KEEP_PARKED_FOR,
            )
        )
    )


async def load_position(session: AsyncSession, source: str) -> str | None:
    """Where a long poll stopped (saved with the events it delivered)."""
    query = select(PollPosition.position).where(PollPosition.source == source)
    return (await session.execute(query)).scalar_one_or_none()


def _position_upsert(insert: Any) -> Any:
    statement = insert(table_of(PollPosition)).values(
        source=bindparam("source"), position=bindparam("position"), updated_at=bindparam("now")
    )
    changed = {name: statement.excluded[name] for name in ("position", "updated_at")}
    return statement.on_conflict_do_update(index_elements=["source"], set_=changed)


_SAVE_POSITION = {dialect: _position_upsert(insert) for dialect, insert in CONFLICT_INSERTS.items()}


async def save_position(session: AsyncSession, source: str, position: str) -> None:
    await session.execute(
        _SAVE_POSITION[session.get_bind().dialect.name],
        {"source": source, "position": position, "now": utcnow()},
    )
