"""The inbox: stored once, taken once, one lane in order, failures parked, customers held."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, text

from shop import inbox
from shop.accounts import AccountRef, Channel
from shop.customers import get_or_create_customer
from shop.inbox import Arrival
from shop.models import InboxEvent, InboxStatus
from tests.e2e.conftest import eventually


def arrival(event_id: str, lane: str = "telegram:1", source: str = "telegram") -> Arrival:
    return Arrival(source, event_id, lane, {"update_id": event_id})


async def stored(sessions, *arrivals: Arrival) -> list[inbox.Entry]:
    async with sessions() as session, session.begin():
        return await inbox.store(session, arrivals)


async def take(sessions, entry: inbox.Entry) -> bool:
    async with sessions() as session, session.begin():
        return await inbox.take(session, entry)


async def statuses(sessions) -> dict[str, str]:
    async with sessions() as session:
        rows = await session.execute(select(InboxEvent.event_id, InboxEvent.status))
        return {event_id: status for event_id, status in rows}


async def test_an_event_delivered_twice_is_stored_once(sessions):
    first = await stored(sessions, arrival("1"), arrival("2"))
    again = await stored(sessions, arrival("2"), arrival("3"), arrival("1", source="vk"))
    assert [e.payload["update_id"] for e in first] == ["1", "2"]
    assert [(e.source, e.payload["update_id"]) for e in again] == [("telegram", "3"), ("vk", "1")]
    assert len(await statuses(sessions)) == 3


async def test_an_event_is_taken_once_and_again_after_a_rollback(sessions):
    [entry] = await stored(sessions, arrival("7"))
    async with sessions() as session, session.begin():
        assert await inbox.take(session, entry)
        await session.rollback()
    assert await statuses(sessions) == {"7": "pending"}
    assert await take(sessions, entry)
    assert not await take(sessions, entry)
    assert await statuses(sessions) == {"7": "done"}


async def test_a_lane_is_taken_in_order_and_other_lanes_do_not_wait(sessions):
    first, second, other = await stored(
        sessions, arrival("1"), arrival("2"), arrival("3", lane="telegram:2")
    )
    assert not await take(sessions, second)  # the first of its lane is still pending
    assert await take(sessions, other)
    async with sessions() as session:
        found = await inbox.next_in_lane(session, "telegram:1")
    assert found is not None and found[0].id == first.id
    assert await take(sessions, first)
    assert await take(sessions, second)
    assert await statuses(sessions) == {"1": "done", "2": "done", "3": "done"}


async def test_concurrent_takes_of_one_event_let_one_through(sessions):
    [entry] = await stored(sessions, arrival("5"))
    copies = [inbox.Entry(entry.id, entry.source, entry.lane, entry.payload) for _ in range(5)]
    all_in = asyncio.Barrier(len(copies))

    async def try_take(copy: inbox.Entry) -> bool:
        async with sessions() as session:
            await all_in.wait()  # every transaction takes at the same moment
            async with session.begin():
                return await inbox.take(session, copy)

    assert sorted(await asyncio.gather(*(try_take(c) for c in copies))) == [False] * 4 + [True]


async def test_a_failing_event_waits_its_turn_then_is_parked(sessions):
    [entry] = await stored(sessions, arrival("9"))
    for _ in range(inbox.MAX_ATTEMPTS - 1):
        async with sessions() as session, session.begin():
            assert not await inbox.record_failure(session, entry, "boom")
    async with sessions() as session:
        assert await inbox.waiting_lanes(session, older_than=timedelta(0)) == []  # not due yet
    async with sessions() as session, session.begin():
        assert await inbox.record_failure(session, entry, "boom")
    async with sessions() as session:
        row = await session.get(InboxEvent, entry.id)
        assert (row.status, row.attempts, row.last_error) == (InboxStatus.PARKED, 3, "boom")
        assert await inbox.next_in_lane(session, entry.lane) is None


async def test_left_behind_lanes_are_found_oldest_first(sessions):
    await stored(sessions, arrival("1", lane="vk:2"), arrival("2", lane="vk:1"))
    await stored(sessions, arrival("3", lane="vk:2"))
    async with sessions() as session:
        assert await inbox.waiting_lanes(session, older_than=timedelta(0)) == ["vk:2", "vk:1"]
        assert await inbox.waiting_lanes(session, older_than=timedelta(hours=1)) == []
        assert await inbox.backlog(session) == 3


async def test_a_poll_position_is_saved_and_moved(sessions):
    async with sessions() as session, session.begin():
        assert await inbox.load_position(session, "vk:1") is None
        await inbox.save_position(session, "vk:1", "10")
    async with sessions() as session, session.begin():
        await inbox.save_position(session, "vk:1", "12")
    async with sessions() as session:
        assert await inbox.load_position(session, "vk:1") == "12"


async def _someone_waits_for_a_lock(sessions) -> None:
    """PostgreSQL: until another transaction waits for a row lock. SQLite has one writer at
    a time anyway (BEGIN IMMEDIATE), and nothing to observe a waiter by."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )

    async def blocked() -> bool:
        async with sessions() as session:  # a new transaction: a fresh look at the activity
            if session.get_bind().dialect.name != "postgresql":
                return True
            return bool(await session.scalar(waiting))

    await eventually(blocked)


async def test_one_customer_is_held_by_one_transaction_at_a_time(sessions):
    account = AccountRef(Channel.TELEGRAM, 31)
    async with sessions() as session, session.begin():
        await get_or_create_customer(session, account)
    order: list[str] = []
    first_holds, second_tries = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with sessions() as session, session.begin():
            await get_or_create_customer(session, account)
            first_holds.set()
            await second_tries.wait()
            await _someone_waits_for_a_lock(sessions)
            order.append("first done")

    async def second() -> None:
        await first_holds.wait()
        second_tries.set()
        async with sessions() as session, session.begin():
            await get_or_create_customer(session, account)
            order.append("second in")

    await asyncio.gather(first(), second())
    assert order == ["first done", "second in"]
