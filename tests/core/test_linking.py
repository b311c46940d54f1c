"""Joining one person's messenger accounts by a one-time code, and parting them again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop import linking, outbox
from shop.accounts import AccountRef, Channel
from shop.customers import get_or_create_customer, reachable_accounts, set_language
from shop.linking import Outcome
from shop.models import (
    AuditEntry,
    CartLine,
    ChannelAccount,
    Customer,
    Order,
    OutboxMessage,
)
from shop.models.types import utcnow
from tests.core.helpers import checkout, fill_cart, small_shop

TG = AccountRef(Channel.TELEGRAM, 101)
VK = AccountRef(Channel.VK, 202)
VK2 = AccountRef(Channel.VK, 303)


async def customer(sessions: async_sessionmaker[AsyncSession], account: AccountRef) -> int:
    async with sessions() as session, session.begin():
        return (await get_or_create_customer(session, account)).id


async def code_for(sessions: async_sessionmaker[AsyncSession], account: AccountRef) -> str:
    async with sessions() as session, session.begin():
        return await linking.issue_code(session, account)


async def redeem(
    sessions: async_sessionmaker[AsyncSession], account: AccountRef, code: str, **kwargs: object
) -> linking.Linked:
    async with sessions() as session, session.begin():
        shopper = await get_or_create_customer(session, account)  # holds the customer
        return await linking.redeem_code(session, account, shopper.id, code, **kwargs)  # type: ignore[arg-type]


async def cart_of(sessions: async_sessionmaker[AsyncSession], customer_id: int) -> dict[int, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(CartLine.variant_id, CartLine.quantity).where(
                CartLine.customer_id == customer_id
            )
        )
        return dict(rows.all())


async def owners(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(ChannelAccount.channel, ChannelAccount.external_id, ChannelAccount.customer_id)
        )
        return {f"{c}:{e}": owner for c, e, owner in rows}


async def test_a_code_joins_carts_orders_and_the_rest_into_the_older_customer(sessions):
    shared, vk_only, tg_only = await small_shop(sessions, [4, 5, 5])
    older = await customer(sessions, TG)
    younger = await customer(sessions, VK)
    async with sessions() as session, session.begin():
        shopper = await get_or_create_customer(session, TG)
        await set_language(session, shopper, "en")
        outbox.enqueue(session, "refund", {"order_id": 1, "amount": 1}, customer_id=younger)
    await fill_cart(sessions, younger, {shared: 1})
    placed = await checkout(sessions, younger)  # the VK side has an order
    await fill_cart(sessions, older, {shared: 2, tg_only: 1})
    await fill_cart(sessions, younger, {shared: 3, vk_only: 2})

    code = await code_for(sessions, TG)
    assert len(code) == 6 and code.isdigit()
    result = await redeem(sessions, VK, code)

    assert result.outcome is Outcome.LINKED and result.issuer == TG
    assert result.customer_id == older and result.joined_id == younger
    assert await owners(sessions) == {str(TG): older, str(VK): older}
    # 2 + 3 added, capped by the 3 left in stock after the order (4 - 1): never below 3.
    assert await cart_of(sessions, older) == {shared: 3, tg_only: 1, vk_only: 2}
    async with sessions() as session:
        assert await session.get(Customer, younger) is None
        kept = await session.get(Customer, older)
        assert kept is not None and kept.language == "en"
        assert (await session.get(Order, placed.id)).customer_id == older  # type: ignore[union-attr]
        assert (
            await session.scalar(select(func.count()).where(OutboxMessage.customer_id == older))
            == 1
        )
        entry = (await session.execute(select(AuditEntry))).scalar_one()
    assert (entry.actor, entry.action, entry.subject) == (
        str(VK),
        "link_accounts",
        f"customer:{older}",
    )
    assert entry.after["moved"]["orders"] == 1


async def test_wrong_expired_and_spent_codes_are_refused_and_guessing_is_slowed(sessions):
    await customer(sessions, TG)
    await customer(sessions, VK)
    await customer(sessions, VK2)
    stale = await code_for(sessions, TG)
    later = utcnow() + linking.CODE_LIFETIME + timedelta(seconds=1)
    assert (await redeem(sessions, VK, stale, now=later)).outcome is Outcome.EXPIRED
    code = await code_for(sessions, TG)
    assert (await redeem(sessions, VK, stale)).outcome is Outcome.EXPIRED  # replaced by a new one
    assert (await redeem(sessions, TG, code)).outcome is Outcome.OWN
    wrong = "000000" if code != "000000" else "111111"
    assert (await redeem(sessions, VK, wrong)).outcome is Outcome.WRONG
    assert (await redeem(sessions, VK, code)).outcome is Outcome.LINKED
    assert (await redeem(sessions, VK2, code)).outcome is Outcome.USED

    # VK2 has spent 1 try; four more wrong ones and even a good code is not looked at.
    fresh = await code_for(sessions, TG)
    for _ in range(linking.MAX_WRONG_TRIES - 1):
        assert (await redeem(sessions, VK2, wrong)).outcome is Outcome.WRONG
    assert (await redeem(sessions, VK2, fresh)).outcome is Outcome.TOO_MANY
    after_window = utcnow() + linking.WRONG_TRIES_WINDOW + timedelta(seconds=1)
    assert (await redeem(sessions, VK2, fresh, now=after_window)).outcome is Outcome.EXPIRED
    # VK2 is still a customer of its own; the two linked accounts share one.
    found = await owners(sessions)
    assert found[str(TG)] == found[str(VK)] != found[str(VK2)]


async def test_two_people_typing_one_code_at_once_make_one_link(sessions):
    await customer(sessions, TG)
    await customer(sessions, VK)
    await customer(sessions, VK2)
    code = await code_for(sessions, TG)
    results = await asyncio.gather(redeem(sessions, VK, code), redeem(sessions, VK2, code))
    assert sorted(r.outcome.value for r in results) == ["linked", "used"]
    found = await owners(sessions)
    assert len(set(found.values())) == 2
    async with sessions() as session:
        links = await session.scalar(
            select(func.count()).where(AuditEntry.action == "link_accounts")
        )
    assert links == 1


async def test_two_accounts_in_one_messenger_are_not_linked(sessions):
    await customer(sessions, VK)
    await customer(sessions, VK2)
    code = await code_for(sessions, VK)
    assert (await redeem(sessions, VK2, code)).outcome is Outcome.SAME_CHANNEL
    assert len(set((await owners(sessions)).values())) == 2


async def test_unlinking_gives_each_side_the_orders_it_placed(sessions):
    (variant,) = await small_shop(sessions, [10])
    tg_customer = await customer(sessions, TG)
    vk_customer = await customer(sessions, VK)
    await fill_cart(sessions, vk_customer, {variant: 1})
    async with sessions() as session, session.begin():
        from shop.checkout import place_order
        from tests.core.helpers import CONTACT, pickup_id

        vk_order = await place_order(
            session,
            vk_customer,
            channel="vk",
            delivery_method_id=await pickup_id(session),
            contact=CONTACT,
            reservation_minutes=30,
        )
    await fill_cart(sessions, tg_customer, {variant: 1})
    tg_order = await checkout(sessions, tg_customer)
    await fill_cart(sessions, tg_customer, {variant: 2})
    assert (await redeem(sessions, VK, await code_for(sessions, TG))).outcome is Outcome.LINKED

    async with sessions() as session, session.begin():
        await linking.choose_notify_channel(session, tg_customer, Channel.VK)
        done = await linking.unlink(session, VK, tg_customer)
    assert done is not None and done.orders == [vk_order.id]
    async with sessions() as session:
        assert await linking.notify_channel(session, tg_customer) is None  # VK is gone
    async with sessions() as session:
        placed = dict((await session.execute(select(Order.id, Order.customer_id))).all())
        assert (
            await session.scalar(select(func.count()).where(AuditEntry.action == "unlink_account"))
            == 1
        )
    assert placed == {tg_order.id: tg_customer, vk_order.id: done.customer_id}
    assert await owners(sessions) == {str(TG): tg_customer, str(VK): done.customer_id}
    assert await cart_of(sessions, tg_customer) == {variant: 2}
    assert await cart_of(sessions, done.customer_id) == {}
    async with sessions() as session, session.begin():
        assert await linking.unlink(session, VK, done.customer_id) is None  # alone now


async def test_notifications_go_to_the_chosen_messenger_else_the_last_used(sessions):
    await customer(sessions, TG)
    await customer(sessions, VK)
    assert (await redeem(sessions, TG, await code_for(sessions, VK))).outcome is Outcome.LINKED
    joined = (await owners(sessions))[str(TG)]

    async def first_choice() -> AccountRef:
        async with sessions() as session:
            return (await reachable_accounts(session, [joined]))[joined][0][0]

    await customer(sessions, VK)  # wrote last from VK (right after Telegram)
    assert await first_choice() == VK
    await customer(sessions, TG)
    assert await first_choice() == TG
    async with sessions() as session, session.begin():
        await linking.choose_notify_channel(session, joined, Channel.VK)
    assert await first_choice() == VK


async def test_a_row_that_would_clash_with_the_older_customers_own_is_dropped(sessions):
    """The generic move on a table with a unique key holding the customer (a row each)."""
    from shop.conversation import State, load_state, save_state
    from shop.models import ConversationState

    first, second, third = (
        await customer(sessions, TG),
        await customer(sessions, VK),
        await customer(sessions, VK2),
    )
    column = ConversationState.__table__.c.customer_id
    async with sessions() as session, session.begin():
        await save_state(session, first, State("co:name"))
        await save_state(session, second, State("co:phone"))
        assert await linking._move_rows(session, column, second, first) == 0  # clashed: went
        assert await linking._move_rows(session, column, first, third) == 1  # free: moved
    async with sessions() as session:
        assert (await load_state(session, third)).step == "co:name"
        assert (await load_state(session, first)).step is None
        assert (await load_state(session, second)).step is None
