"""One shopper pressing fast: every press counts once, none races another (both databases)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from shop.models import CartLine, InboxEvent, InboxStatus, Order, Variant
from tests.e2e.conftest import check_out_tote_bag, eventually

ERROR = "Что-то пошло не так"


async def _all_handled(shop) -> bool:
    async with shop.runtime.sessions() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(InboxEvent)
            .where(InboxEvent.status != InboxStatus.DONE)
        )
    return pending == 0


async def _settled(shop) -> None:
    await eventually(lambda: _all_handled(shop))
    await shop.emu.settle(shop.token)


async def _at_confirmation(person) -> None:
    await check_out_tote_bag(person)
    await person.press("Использовать")
    await person.send("+79001234567")
    await person.press("Самовывоз")
    await person.press("Без комментария")
    await person.press("Без чека на почту")


async def _orders(shop) -> int:
    async with shop.runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Order))


async def _stock(shop) -> int:
    async with shop.runtime.sessions() as session:
        return await session.scalar(select(func.sum(Variant.stock)))


async def _cart(shop) -> list[int]:
    async with shop.runtime.sessions() as session:
        return list((await session.execute(select(CartLine.quantity))).scalars())


def _no_apology(person) -> None:
    seen = [m.text or "" for m in person.bot_messages] + [person.last_answer or ""]
    assert not [text for text in seen if ERROR in text]


async def test_five_confirm_presses_at_once_place_one_order(shop):
    alice = shop.user()
    await _at_confirmation(alice)
    before = await _stock(shop)
    presses = [alice.press("Подтвердить заказ", expect_reply=False) for _ in range(5)]
    await asyncio.gather(*presses)
    await _settled(shop)
    assert await _orders(shop) == 1
    assert "оформлен" in alice.screen.text
    assert before - await _stock(shop) == 1  # one unit reserved, once
    _no_apology(alice)


async def test_a_double_tap_on_confirm_places_one_order(shop):
    bob = shop.user("Борис")
    await _at_confirmation(bob)
    await asyncio.gather(*(bob.press("Подтвердить заказ", expect_reply=False) for _ in range(2)))
    await _settled(shop)
    assert await _orders(shop) == 1
    _no_apology(bob)


async def test_three_quick_adds_and_three_quick_plus_all_count(shop):
    carol = shop.user("Карина")
    await carol.send("шопер")
    await carol.press("Шопер")
    await asyncio.gather(*(carol.press("В корзину", expect_reply=False) for _ in range(3)))
    await _settled(shop)
    assert await _cart(shop) == [3]
    await carol.press("Перейти в корзину")
    await asyncio.gather(*(carol.press("+", expect_reply=False) for _ in range(3)))
    await _settled(shop)
    assert await _cart(shop) == [6]
    assert "6" in carol.screen.text
    _no_apology(carol)
