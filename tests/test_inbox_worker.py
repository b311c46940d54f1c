"""The inbox worker: lanes in order, a failing event parked with staff told, others go on,
what a crash left pending swept up, a database fault waits uncounted."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.inbox import InboxWorker
from shop import inbox
from shop.inbox import Arrival, Entry
from shop.models import InboxEvent, InboxStatus, OutboxMessage
from tests.e2e.conftest import eventually


def arrival(n: int, lane: str) -> Arrival:
    return Arrival("test", str(n), lane, {"n": n})


async def rows(sessions) -> dict[int, tuple[str, int]]:
    async with sessions() as session:
        found = await session.execute(
            select(InboxEvent.payload, InboxEvent.status, InboxEvent.attempts)
        )
        return {payload["n"]: (status, attempts) for payload, status, attempts in found}


async def test_lanes_are_handled_in_order_and_a_failing_event_is_parked(sessions):
    worker = InboxWorker(sessions)
    seen: list[int] = []
    apologies: list[int] = []

    async def handle(entry: Entry) -> None:
        if entry.payload["n"] == 2:
            raise RuntimeError("a bug")
        async with sessions() as session, session.begin():
            if await inbox.take(session, entry):
                seen.append(entry.payload["n"])

    async def apologise(entry: Entry) -> None:
        apologies.append(entry.payload["n"])

    worker.register("test", handle, on_parked=apologise)
    await worker.accept([arrival(1, "a"), arrival(2, "a"), arrival(3, "a"), arrival(4, "b")])
    await worker.idle()
    # 2 failed once: the lane waits for its retry, other lanes go on (side by side).
    assert sorted(seen) == [1, 4]
    for _ in range(inbox.MAX_ATTEMPTS):
        async with sessions() as session, session.begin():
            await session.execute(
                InboxEvent.__table__.update().values(next_attempt_at=InboxEvent.received_at)
            )
        await worker.sweep(older_than=timedelta(0))
        await worker.idle()
    assert sorted(seen[:2]) == [1, 4] and seen[2:] == [3]
    assert apologies == [2]
    stored = await rows(sessions)
    assert stored[2] == (InboxStatus.PARKED, inbox.MAX_ATTEMPTS)
    assert {stored[n][0] for n in (1, 3, 4)} == {InboxStatus.DONE}
    async with sessions() as session:
        alerts = (await session.execute(select(OutboxMessage.kind, OutboxMessage.payload))).all()
    assert [(kind, payload["problem"]) for kind, payload in alerts] == [
        ("staff_alert", "event_parked")
    ]
    await worker.close()


async def test_a_database_fault_is_not_counted_and_the_event_waits(sessions):
    worker = InboxWorker(sessions)
    failing = True

    async def handle(entry: Entry) -> None:
        if failing:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    worker.register("test", handle)
    await worker.accept([arrival(1, "a")])
    await worker.idle()
    assert await rows(sessions) == {1: (InboxStatus.PENDING, 0)}
    failing = False
    await worker.sweep(older_than=timedelta(0))
    await worker.idle()
    assert await rows(sessions) == {1: (InboxStatus.DONE, 0)}
    await worker.close()


async def test_events_left_by_a_crash_are_swept_up_in_order(sessions):
    async with sessions() as session, session.begin():  # stored, then the process died
        await inbox.store(session, [arrival(n, "a") for n in range(5)])
    worker = InboxWorker(sessions)
    seen: list[int] = []

    async def handle(entry: Entry) -> None:
        seen.append(entry.payload["n"])

    worker.register("test", handle)
    sweeper = asyncio.create_task(worker.run_sweeper(every=0.05))
    try:
        await eventually(lambda: len(seen) == 5)
    finally:
        sweeper.cancel()
        await worker.close()
    assert seen == [0, 1, 2, 3, 4]
    assert {status for status, _ in (await rows(sessions)).values()} == {InboxStatus.DONE}
