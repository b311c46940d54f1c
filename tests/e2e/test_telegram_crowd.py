"""Fifty shoppers at once, each completing the journey; stock is right at the end."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, update

from bot import budget
from shop.models import Order, Variant

CREAM = "DEMO-018-00"  # Крем для рук «Облепиха»


async def _buy_cream(person, n: int) -> str:
    await person.send("крем облепиха")
    await person.press("Крем для рук")
    await person.press("В корзину")
    await person.press("Перейти в корзину")
    await person.press("Оформить заказ")
    await person.send(f"Покупатель {n}")
    await person.send(f"+7900{n:07d}")
    await person.press("Самовывоз")
    await person.press("Без комментария")
    await person.press("Без чека на почту")
    await person.press("Подтвердить заказ")
    return person.screen.text


async def test_fifty_shoppers_at_once(shop, monkeypatch):
    # What is tested is the shop under a crowd, not Telegram's 25 messages/s (the emulator
    # here has no limits; tests/e2e/test_several_workers.py holds the budget to them).
    monkeypatch.setattr(budget, "_telegram_bot", None)
    async with shop.runtime.sessions() as session, session.begin():
        await session.execute(update(Variant).where(Variant.sku == CREAM).values(stock=45))
    shop.emu.config.reactions_in_own_chat = True
    shop.emu.config.settle_timeout = 60.0
    shop.emu.config.weak_quiet_period = 2.0  # a toast then the edit, however busy the bot is
    shop.emu.config.quiet_period = 0.5  # two messages in a row, however busy the loop is
    people = [shop.user(f"Покупатель{n}") for n in range(50)]
    endings = await asyncio.gather(*(_buy_cream(p, n) for n, p in enumerate(people)))
    placed = [text for text in endings if "оформлен" in text]
    short = [text for text in endings if text.startswith("Не удалось оформить заказ")]
    assert (len(placed), len(short)) == (45, 5)
    async with shop.runtime.sessions() as session:
        stock = await session.scalar(select(Variant.stock).where(Variant.sku == CREAM))
        orders = await session.scalar(select(func.count()).select_from(Order))
    assert (stock, orders) == (0, 45)
