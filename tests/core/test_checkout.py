"""Placing orders: atomic reservation, price snapshots, every shortage reported, no overselling."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, update

from shop.cart import get_cart
from shop.checkout import Contact, PlacedOrder, place_order
from shop.errors import OutOfStock, ShopError
from shop.models import CartLine, Category, DeliveryMethod, Order, OrderStatus, Product, Variant
from tests.core.helpers import (
    checkout,
    fill_cart,
    new_customer,
    small_shop,
    stock_of,
)


async def test_order_reserves_stock_snapshots_prices_and_clears_cart(sessions):
    variants = await small_shop(sessions, [5, 5])
    alice = await new_customer(sessions, 1)
    await fill_cart(sessions, alice, {variants[0]: 2, variants[1]: 1})
    order = await checkout(sessions, alice)
    async with sessions() as session, session.begin():
        await session.execute(update(Variant).values(price=99_900))
    assert await stock_of(sessions, variants) == [3, 4]
    async with sessions() as session:
        stored = await session.get(Order, order.id)
        lines = (await session.execute(select(CartLine))).all()
        await session.refresh(stored, ["lines", "events"])
    assert stored.status == OrderStatus.AWAITING_PAYMENT
    assert [(line.sku, line.price, line.quantity) for line in stored.lines] == [
        ("T-0", 10_000, 2),
        ("T-1", 10_000, 1),
    ]
    assert (stored.items_total, stored.total) == (30_000, 30_000)
    assert [(e.from_status, e.to_status) for e in stored.events] == [
        (None, "new"),
        ("new", "awaiting_payment"),
    ]
    assert lines == []


async def test_prices_are_read_at_the_moment_of_ordering(sessions):
    (variant,) = await small_shop(sessions, [5])
    alice = await new_customer(sessions, 1)
    await fill_cart(sessions, alice, {variant: 1})
    async with sessions() as session, session.begin():
        await session.execute(update(Variant).values(price=12_345))
    order = await checkout(sessions, alice)
    assert order.total == 12_345


async def test_every_short_line_is_reported_and_nothing_is_reserved(sessions):
    variants = await small_shop(sessions, [5, 5, 5])
    alice = await new_customer(sessions, 1)
    await fill_cart(sessions, alice, {variants[0]: 2, variants[1]: 4, variants[2]: 5})
    async with sessions() as session, session.begin():
        await session.execute(update(Variant).where(Variant.id != variants[0]).values(stock=1))
    with pytest.raises(OutOfStock) as error:
        await checkout(sessions, alice)
    assert [(s.variant_id, s.requested, s.available) for s in error.value.shortages] == [
        (variants[1], 4, 1),
        (variants[2], 5, 1),
    ]
    assert await stock_of(sessions, variants) == [5, 1, 1]
    async with sessions() as session:
        assert (await get_cart(session, alice)).count == 11
        assert await session.scalar(select(func.count()).select_from(Order)) == 0


async def test_empty_cart_cannot_be_ordered(sessions):
    await small_shop(sessions, [5])
    alice = await new_customer(sessions, 1)
    with pytest.raises(ShopError) as error:
        await checkout(sessions, alice)
    assert error.value.code == "cart_empty"


async def test_courier_needs_an_address(sessions):
    (variant,) = await small_shop(sessions, [5])
    alice = await new_customer(sessions, 1)
    await fill_cart(sessions, alice, {variant: 1})
    async with sessions() as session, session.begin():
        courier = DeliveryMethod(code="courier", title="Курьер", price=35_000, needs_address=True)
        session.add(courier)
    with pytest.raises(ShopError) as error:
        async with sessions() as session, session.begin():
            await place_order(
                session,
                alice,
                channel="vk",
                delivery_method_id=courier.id,
                contact=Contact(name="A", phone="+7900"),
                reservation_minutes=30,
            )
    assert error.value.code == "address_required"
    async with sessions() as session, session.begin():
        order = await place_order(
            session,
            alice,
            channel="vk",
            delivery_method_id=courier.id,
            contact=Contact(name="A", phone="+7900", address="Тверская, 1"),
            reservation_minutes=30,
        )
    assert (order.delivery_price, order.total) == (35_000, 45_000)


async def test_hidden_variant_in_cart_is_a_shortage(sessions):
    (variant,) = await small_shop(sessions, [5])
    alice = await new_customer(sessions, 1)
    await fill_cart(sessions, alice, {variant: 1})
    async with sessions() as session, session.begin():
        await session.execute(update(Variant).values(hidden=True))
    with pytest.raises(OutOfStock) as error:
        await checkout(sessions, alice)
    assert error.value.shortages[0].available == 0
    assert await stock_of(sessions, [variant]) == [5]


@pytest.mark.parametrize("hidden", [Product, Category], ids=lambda table: table.__name__)
async def test_lines_whose_product_or_category_was_hidden_are_all_short(sessions, hidden):
    first, second = await small_shop(sessions, [5, 5])
    alice = await new_customer(sessions, 1)
    await fill_cart(sessions, alice, {first: 1, second: 2})
    async with sessions() as session, session.begin():
        product_id = await session.scalar(select(Variant.product_id).where(Variant.id == first))
        product = await session.get(Product, product_id)
        target = product if hidden is Product else await session.get(Category, product.category_id)
        target.hidden = True
    with pytest.raises(OutOfStock) as error:
        await checkout(sessions, alice)
    assert [(s.variant_id, s.requested, s.available) for s in error.value.shortages] == [
        (first, 1, 0),
        (second, 2, 0),
    ]
    assert await stock_of(sessions, [first, second]) == [5, 5]


async def test_200_concurrent_checkouts_for_10_units_make_exactly_10_orders(sessions):
    (variant,) = await small_shop(sessions, [10])
    customers = [await new_customer(sessions, 1000 + i) for i in range(200)]
    await asyncio.gather(*(fill_cart(sessions, c, {variant: 1}) for c in customers))

    async def buy(customer_id: int) -> str:
        try:
            await checkout(sessions, customer_id)
        except OutOfStock as error:
            assert [s.variant_id for s in error.shortages] == [variant]
            return "short"
        return "ordered"

    outcomes = await asyncio.gather(*(buy(c) for c in customers))
    assert outcomes.count("ordered") == 10
    assert outcomes.count("short") == 190
    assert await stock_of(sessions, [variant]) == [0]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 10


async def test_concurrent_buyers_of_two_lines_in_opposite_order_do_not_deadlock(sessions):
    a, b = await small_shop(sessions, [30, 30])
    customers = [await new_customer(sessions, 2000 + i) for i in range(40)]
    for index, customer in enumerate(customers):
        lines = {a: 1, b: 1} if index % 2 else {b: 1, a: 1}
        await fill_cart(sessions, customer, lines)
    results = await asyncio.gather(
        *(checkout(sessions, c) for c in customers), return_exceptions=True
    )
    placed = [r for r in results if isinstance(r, PlacedOrder)]
    assert len(placed) == 30
    assert all(isinstance(r, OutOfStock) for r in results if not isinstance(r, PlacedOrder))
    assert await stock_of(sessions, [a, b]) == [0, 0]
