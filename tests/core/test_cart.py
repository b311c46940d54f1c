"""Cart changes: validated, with a clear reason when refused, and nothing changed then."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from shop.cart import (
    MAX_QUANTITY,
    add_to_cart,
    change_quantity,
    clear_cart,
    get_cart,
    remove_from_cart,
)
from shop.errors import ShopError
from shop.models import Product, Variant
from tests.core.helpers import new_customer, small_shop


async def _refused(sessions, action, *args) -> str:
    with pytest.raises(ShopError) as error:
        async with sessions() as session, session.begin():
            await action(session, *args)
    return error.value.code


async def test_add_increment_decrement_remove(sessions):
    (variant,) = await small_shop(sessions, [10])
    alice = await new_customer(sessions, 1)
    async with sessions() as session, session.begin():
        assert await add_to_cart(session, alice, variant) == 1
        assert await add_to_cart(session, alice, variant, 2) == 3
        assert await change_quantity(session, alice, variant, -1) == 2
    async with sessions() as session:
        cart = await get_cart(session, alice)
    assert (cart.count, cart.total, cart.orderable) == (2, 20_000, True)
    async with sessions() as session, session.begin():
        await remove_from_cart(session, alice, variant)
    async with sessions() as session:
        assert (await get_cart(session, alice)).items == []


async def test_decrement_to_zero_removes_the_line(sessions):
    (variant,) = await small_shop(sessions, [10])
    alice = await new_customer(sessions, 1)
    async with sessions() as session, session.begin():
        await add_to_cart(session, alice, variant)
        assert await change_quantity(session, alice, variant, -1) == 0
    async with sessions() as session:
        assert (await get_cart(session, alice)).items == []


async def test_refusals_change_nothing(sessions):
    (variant, empty) = await small_shop(sessions, [3, 0])
    alice = await new_customer(sessions, 1)
    async with sessions() as session, session.begin():
        await add_to_cart(session, alice, variant, 2)
    assert await _refused(sessions, add_to_cart, alice, variant, 2) == "not_enough_stock"
    assert await _refused(sessions, add_to_cart, alice, empty, 1) == "not_enough_stock"
    assert await _refused(sessions, add_to_cart, alice, 999_999, 1) == "not_available"
    assert await _refused(sessions, change_quantity, alice, empty, 1) == "not_in_cart"
    async with sessions() as session:
        cart = await get_cart(session, alice)
    assert [(i.variant_id, i.quantity) for i in cart.items] == [(variant, 2)]


async def test_quantity_over_99_is_refused(sessions):
    (variant,) = await small_shop(sessions, [500])
    alice = await new_customer(sessions, 1)
    code = await _refused(sessions, add_to_cart, alice, variant, MAX_QUANTITY + 1)
    assert code == "quantity_limit"


async def test_hidden_product_cannot_be_added(sessions):
    (variant,) = await small_shop(sessions, [5])
    alice = await new_customer(sessions, 1)
    async with sessions() as session, session.begin():
        await session.execute(update(Product).values(hidden=True))
    assert await _refused(sessions, add_to_cart, alice, variant, 1) == "not_available"


async def test_line_gone_unavailable_is_flagged_not_dropped(sessions):
    (variant, other) = await small_shop(sessions, [5, 5])
    alice = await new_customer(sessions, 1)
    async with sessions() as session, session.begin():
        await add_to_cart(session, alice, variant, 2)
        await add_to_cart(session, alice, other, 4)
        await session.execute(update(Variant).where(Variant.id == variant).values(hidden=True))
        await session.execute(update(Variant).where(Variant.id == other).values(stock=1))
    async with sessions() as session:
        cart = await get_cart(session, alice)
    assert [(i.variant_id, i.problem) for i in cart.items] == [
        (variant, "unavailable"),
        (other, "not_enough"),
    ]
    assert not cart.orderable


async def test_carts_are_per_customer(sessions):
    (variant,) = await small_shop(sessions, [5])
    alice, bob = await new_customer(sessions, 1), await new_customer(sessions, 2)
    async with sessions() as session, session.begin():
        await add_to_cart(session, alice, variant, 1)
        await clear_cart(session, bob)
    async with sessions() as session:
        assert (await get_cart(session, alice)).count == 1
        assert (await get_cart(session, bob)).count == 0
