"""A shopper's whole journey in Telegram, through the emulator, as a person would do it."""

from __future__ import annotations

from sqlalchemy import select

from shop.models import Order, OrderStatus, Variant
from tests.e2e.conftest import seen


async def test_from_start_to_my_orders(shop):
    alice = shop.user()
    await alice.send("/start")
    assert seen(alice.screen.text).startswith("Здравствуйте, Алиса!")
    await alice.press("Каталог")
    await alice.press("Одежда")
    await alice.press("Футболки")
    await alice.press("Байкал")
    assert alice.screen.photo is not None
    await alice.press("M, чёрная")
    assert "Цена: 1 590 ₽" in seen(alice.screen.text)
    await alice.press("+")
    await alice.press("В корзину")
    assert alice.last_answer == "Добавлено в корзину: 2 шт."
    await alice.press("Перейти в корзину (2)")
    assert "Итого: 3 180 ₽" in seen(alice.screen.text)
    await alice.press("+")
    await alice.press("−")
    await alice.press("Оформить заказ")
    await alice.press("Использовать: Алиса")
    assert alice.reply_keyboard == [["📱 Отправить телефон"]]
    await alice.share_contact(phone="+79001234567")
    assert alice.reply_keyboard is None
    await alice.press("Курьер")
    await alice.send("Москва, Тверская, 1, кв. 5")
    await alice.press("Без комментария")
    await alice.press("Без чека на почту")
    assert "Итого к оплате: 3 530 ₽" in seen(alice.screen.text)
    await alice.press("Подтвердить заказ")
    assert "оформлен" in alice.screen.text
    await alice.press("Мои заказы")
    assert "ожидает оплаты" in alice.screen.text

    async with shop.runtime.sessions() as session:
        order = (await session.execute(select(Order))).scalar_one()
        stock = await session.scalar(select(Variant.stock).where(Variant.sku == "DEMO-001-03"))
    assert (order.status, order.total, order.phone) == (
        OrderStatus.AWAITING_PAYMENT,
        353_000,
        "+79001234567",
    )
    assert stock == 2
