"""One shopper cannot hoard: unpaid orders holding stock are capped, per order and per SKU."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from shop.billing import choose_cash_on_delivery
from shop.cart import get_cart
from shop.checkout import PlacedOrder, place_order
from shop.errors import OutOfStock, ShopError
from shop.models import CartLine, DeliveryMethod, Order, OrderStatus, Variant
from shop.models.types import utcnow
from shop.orders import transition
from shop.reservations import HoldLimitReached, HoldLimits, cancel_unpaid_order
from tests.core.helpers import (
    CONTACT,
    checkout,
    fill_cart,
    new_customer,
    pickup_id,
    small_shop,
    stock_of,
)


async def _order(sessions, customer_id, lines, *, limits=HoldLimits(), now=None) -> PlacedOrder:
    await fill_cart(sessions, customer_id, lines)
    async with sessions() as session, session.begin():
        return await place_order(
            session,
            customer_id,
            channel="telegram",
            delivery_method_id=await pickup_id(session),
            contact=CONTACT,
            reservation_minutes=30,
            limits=limits,
            now=now,
        )


async def _orders_of(sessions, customer_id) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(Order).where(Order.customer_id == customer_id)
        return await session.scalar(query)


async def test_a_fourth_unpaid_order_is_refused_and_changes_nothing(sessions):
    (variant,) = await small_shop(sessions, [100])
    alice = await new_customer(sessions, 1)
    placed = [await _order(sessions, alice, {variant: 1}) for _ in range(3)]
    await fill_cart(sessions, alice, {variant: 2})

    with pytest.raises(HoldLimitReached) as refused:
        await checkout(sessions, alice)

    assert refused.value.code == "unpaid_orders_limit"
    assert refused.value.params == {"limit": 3, "count": 3}
    assert [order.id for order in refused.value.held] == [order.id for order in placed]
    assert await stock_of(sessions, [variant]) == [97]
    assert await _orders_of(sessions, alice) == 3
    async with sessions() as session:
        assert (await get_cart(session, alice)).count == 2


async def test_paying_or_cancelling_an_order_makes_room(sessions):
    (variant,) = await small_shop(sessions, [100])
    alice = await new_customer(sessions, 1)
    first, second, _ = [await _order(sessions, alice, {variant: 1}) for _ in range(3)]
    async with sessions() as session, session.begin():
        await transition(session, first.id, OrderStatus.PAID, actor="test")
    await _order(sessions, alice, {variant: 1})
    with pytest.raises(HoldLimitReached):
        await _order(sessions, alice, {variant: 1})

    async with sessions() as session, session.begin():
        await cancel_unpaid_order(session, second.id, alice)
    await checkout(sessions, alice)

    assert await stock_of(sessions, [variant]) == [100 - 4]  # 5 placed, 1 cancelled
    async with sessions() as session:
        assert (await session.get(Order, second.id)).status == OrderStatus.CANCELLED


async def test_orders_past_their_reservation_and_other_shoppers_orders_do_not_count(sessions):
    (variant,) = await small_shop(sessions, [100])
    alice, bob = await new_customer(sessions, 1), await new_customer(sessions, 2)
    long_ago = utcnow() - timedelta(hours=2)
    for _ in range(3):
        await _order(sessions, alice, {variant: 1}, now=long_ago)  # expired, not yet swept
        await _order(sessions, bob, {variant: 1})
    for _ in range(3):
        await _order(sessions, alice, {variant: 1})
    assert await _orders_of(sessions, alice) == 6


async def test_units_of_one_sku_across_unpaid_orders_are_capped(sessions):
    a, b = await small_shop(sessions, [100, 100])
    alice = await new_customer(sessions, 1)
    await _order(sessions, alice, {a: 8, b: 10})
    await fill_cart(sessions, alice, {a: 3, b: 1})

    with pytest.raises(HoldLimitReached) as refused:
        await checkout(sessions, alice)

    assert refused.value.code == "units_limit"
    assert refused.value.params["limit"] == 10
    assert [(o.variant_id, o.title, o.wanted, o.held) for o in refused.value.over] == [
        (a, "Товар (0)", 3, 8),
        (b, "Товар (1)", 1, 10),
    ]
    assert await stock_of(sessions, [a, b]) == [92, 90]
    async with sessions() as session, session.begin():
        await session.execute(delete(CartLine))
    await _order(sessions, alice, {a: 2})  # up to the limit exactly
    assert await stock_of(sessions, [a, b]) == [90, 90]


async def test_one_order_alone_cannot_take_more_than_the_units_limit(sessions):
    (variant,) = await small_shop(sessions, [100])
    alice = await new_customer(sessions, 1)
    with pytest.raises(HoldLimitReached) as refused:
        await _order(sessions, alice, {variant: 11})
    assert [(o.wanted, o.held) for o in refused.value.over] == [(11, 0)]
    placed = await _order(sessions, alice, {}, limits=HoldLimits(units_per_sku=11))
    assert placed.items_total == 11 * 10_000


async def test_cash_on_delivery_orders_count_until_shipped(sessions):
    (variant,) = await small_shop(sessions, [100])
    alice = await new_customer(sessions, 1)
    placed = [await _order(sessions, alice, {variant: 1}) for _ in range(3)]
    await _allow_cash(sessions)
    for order in placed:
        await choose_cash_on_delivery(sessions, order.id, alice)
    with pytest.raises(HoldLimitReached) as refused:
        await _order(sessions, alice, {variant: 1})
    assert all(order.cash_on_delivery for order in refused.value.held)

    async with sessions() as session, session.begin():
        await transition(session, placed[0].id, OrderStatus.SHIPPED, actor="staff")
    await checkout(sessions, alice)


async def _allow_cash(sessions) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(DeliveryMethod).values(cash_on_delivery=True))


async def test_checkouts_of_one_shopper_at_once_place_one_order_never_past_the_cap(sessions):
    (variant,) = await small_shop(sessions, [100])
    alice = await new_customer(sessions, 1)
    for _ in range(2):
        await _order(sessions, alice, {variant: 1})
    await fill_cart(sessions, alice, {variant: 1})

    results = await asyncio.gather(
        *(checkout(sessions, alice) for _ in range(4)), return_exceptions=True
    )

    assert sum(isinstance(r, PlacedOrder) for r in results) == 1
    assert all(isinstance(r, ShopError) for r in results if not isinstance(r, PlacedOrder))
    assert await _orders_of(sessions, alice) == 3
    assert await stock_of(sessions, [variant]) == [97]


async def test_a_shortage_gives_back_the_lines_already_taken_even_if_committed(sessions):
    a, b = await small_shop(sessions, [5, 5])
    alice = await new_customer(sessions, 1)
    await fill_cart(sessions, alice, {a: 2, b: 3})
    async with sessions() as session, session.begin():
        await session.execute(update(Variant).where(Variant.id == b).values(stock=1))
    async with sessions() as session, session.begin():  # as a screen showing it does
        with pytest.raises(OutOfStock):
            await place_order(
                session,
                alice,
                channel="telegram",
                delivery_method_id=await pickup_id(session),
                contact=CONTACT,
                reservation_minutes=30,
            )
    assert await stock_of(sessions, [a, b]) == [5, 1]


async def test_a_shopper_cannot_cancel_another_shoppers_or_a_paid_order(sessions):
    (variant,) = await small_shop(sessions, [100])
    alice, bob = await new_customer(sessions, 1), await new_customer(sessions, 2)
    order = await _order(sessions, alice, {variant: 1})
    with pytest.raises(ShopError) as refused:
        async with sessions() as session, session.begin():
            await cancel_unpaid_order(session, order.id, bob)
    assert refused.value.code == "not_available"
    async with sessions() as session, session.begin():
        await transition(session, order.id, OrderStatus.PAID, actor="test")
    with pytest.raises(ShopError) as refused:
        async with sessions() as session, session.begin():
            await cancel_unpaid_order(session, order.id, alice)
    assert refused.value.code == "not_awaiting_payment"
    assert await stock_of(sessions, [variant]) == [99]
