"""Outbox claiming, customers and conversation state."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from shop import outbox
from shop.accounts import AccountRef, Channel
from shop.conversation import State, load_state, save_state
from shop.customers import (
    find_customer,
    forget_personal_data,
    get_or_create_customer,
    save_contact,
    set_language,
)
from shop.models import ChannelAccount, OutboxMessage, OutboxStatus
from shop.models.types import utcnow
from tests.core.helpers import new_customer


async def test_two_workers_never_claim_the_same_message(sessions):
    customer = await new_customer(sessions, 1)
    async with sessions() as session, session.begin():
        for i in range(30):
            outbox.enqueue(session, "note", {"i": i}, customer_id=customer)

    async def worker() -> list[int]:
        async with sessions() as session, session.begin():
            return [m.id for m in await outbox.claim_due(session, limit=20)]

    first, second = await asyncio.gather(worker(), worker())
    assert not set(first) & set(second)
    assert len(first) + len(second) == 30


async def test_claimed_message_comes_back_when_its_lease_runs_out(sessions):
    customer = await new_customer(sessions, 1)
    async with sessions() as session, session.begin():
        outbox.enqueue(session, "note", {}, customer_id=customer)
    async with sessions() as session, session.begin():
        assert len(await outbox.claim_due(session)) == 1
    async with sessions() as session, session.begin():
        assert await outbox.claim_due(session) == []
        later = await outbox.claim_due(session, now=utcnow() + timedelta(minutes=3))
    assert [m.attempts for m in later] == [2]


async def test_retries_back_off_then_give_up(sessions):
    customer = await new_customer(sessions, 1)
    async with sessions() as session, session.begin():
        message = outbox.enqueue(session, "note", {}, customer_id=customer)

    async def retried_after(**retry: object) -> float:
        """Seconds from the failure until the message is due again."""
        failed_at = utcnow()
        async with sessions() as session, session.begin():
            await outbox.mark_retry(session, message.id, "boom", **retry)  # type: ignore[arg-type]
        async with sessions() as session:
            due = (await session.get(OutboxMessage, message.id)).next_attempt_at
        return (due - failed_at).total_seconds()

    assert 5 <= await retried_after(attempts=1, retry_after=5) < 6  # as the API asked
    assert 2 <= await retried_after(attempts=1) < 3  # else doubling with every try
    assert 8 <= await retried_after(attempts=3) < 9
    async with sessions() as session, session.begin():
        assert await outbox.claim_due(session, now=utcnow() + timedelta(seconds=7)) == []
        assert len(await outbox.claim_due(session, now=utcnow() + timedelta(seconds=10))) == 1
    async with sessions() as session, session.begin():
        await outbox.mark_retry(session, message.id, "boom", attempts=outbox.MAX_ATTEMPTS)
    async with sessions() as session:
        stored = await session.get(OutboxMessage, message.id)
    assert (stored.status, stored.last_error) == (OutboxStatus.DEAD, "boom")


async def test_one_customer_per_account_even_when_created_concurrently(sessions):
    account = AccountRef(Channel.VK, 555)

    async def create() -> int:
        async with sessions() as session, session.begin():
            return (await get_or_create_customer(session, account, language_code="en")).id

    ids = await asyncio.gather(*(create() for _ in range(10)))
    assert len(set(ids)) == 1
    async with sessions() as session:
        accounts = (await session.execute(select(ChannelAccount))).scalars().all()
    assert len(accounts) == 1


async def test_language_follows_the_messenger(sessions):
    async with sessions() as session, session.begin():
        english = await get_or_create_customer(
            session, AccountRef(Channel.TELEGRAM, 1), language_code="en-GB"
        )
        russian = await get_or_create_customer(
            session, AccountRef(Channel.TELEGRAM, 2), language_code="uk"
        )
    assert (english.language, russian.language) == ("en", "ru")


async def test_a_changed_shopper_is_what_the_next_update_reads(sessions):
    account = AccountRef(Channel.TELEGRAM, 3)
    async with sessions() as session, session.begin():
        shopper = await get_or_create_customer(session, account, display_name="Алиса")
        await set_language(session, shopper, "en")
        await save_contact(session, shopper, name="Алиса", phone="+79001234567", address="Тверь")
    async with sessions() as session:
        assert await find_customer(session, account) == shopper
    assert (shopper.language, shopper.phone, shopper.address) == ("en", "+79001234567", "Тверь")

    async with sessions() as session, session.begin():
        await forget_personal_data(session, shopper)
    async with sessions() as session:
        assert await find_customer(session, account) == shopper
    assert (shopper.name, shopper.phone, shopper.address) == (None, None, None)


async def test_conversation_state_survives_a_new_session(sessions):
    customer = await new_customer(sessions, 1)
    async with sessions() as session, session.begin():
        await save_state(session, customer, State("checkout:phone", {"name": "Алиса"}))
    async with sessions() as session:
        state = await load_state(session, customer)
    assert (state.step, state.data) == ("checkout:phone", {"name": "Алиса"})
    state.step, state.data["phone"] = "checkout:delivery", "+79001234567"
    async with sessions() as session, session.begin():
        await save_state(session, customer, state)
    async with sessions() as session:
        again = await load_state(session, customer)
    assert (again.step, again.data["phone"], again.changed) == (
        "checkout:delivery",
        "+79001234567",
        False,
    )
