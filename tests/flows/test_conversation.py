"""The neutral conversation end to end, without a messenger: what the shopper reads."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.conversation import Conversation
from shop.models import Order, OrderStatus, Variant
from tests.flows.person import Person


@pytest.fixture
def alice(demo) -> Person:
    return Person(Conversation(demo), user_id=101)


async def test_journey_from_start_to_my_orders(alice, demo):
    await alice.send("/start")
    assert alice.text.startswith("Здравствуйте, Алиса!")
    await alice.press("Каталог")
    await alice.press("Одежда")
    await alice.press("Футболки")
    assert "Страница 1 из 1" in alice.text
    await alice.press("Байкал")
    assert alice.screen.photo is not None
    assert "Вариант: S, белая" in alice.text
    await alice.press("M, чёрная")
    assert "Цена: 1 590" in alice.text
    await alice.press("+")
    reply = await alice.press("В корзину")
    assert reply.toast == "Добавлено в корзину: 2 шт."
    await alice.press("Перейти в корзину (2)")
    assert "Итого: 3 180" in alice.text
    await alice.press("+")
    await alice.press("−")
    await alice.press("Оформить заказ")
    await alice.press("Использовать: Алиса")
    assert alice.last.screens[-1].ask_contact == "📱 Отправить телефон"
    await alice.share_contact("+7 900 123-45-67")
    assert alice.last.screens[0].text == "📱 +79001234567"
    await alice.press("Курьер")
    await alice.send("Москва, Тверская, 1, кв. 5")
    await alice.press("Без комментария")
    assert alice.text.startswith("Прислать электронный чек на почту?")
    await alice.press("Без чека на почту")
    assert "Итого к оплате: 3 530" in alice.text
    assert "Чек на почту" not in alice.text
    await alice.press("Подтвердить заказ")
    assert "оформлен" in alice.text
    await alice.press("Мои заказы")
    assert "ожидает оплаты" in alice.text

    async with demo() as session:
        order = (await session.execute(select(Order))).scalar_one()
        variant = (
            await session.execute(select(Variant).where(Variant.sku == "DEMO-001-03"))
        ).scalar_one()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert (order.total, order.address, order.email) == (353000, "Москва, Тверская, 1, кв. 5", None)
    assert variant.stock == 2


async def test_nonsense_at_checkout_re_asks_with_a_hint(alice):
    await alice.send("/start")
    await alice.send("кружка")
    await alice.press("Кружка")
    await alice.press("В корзину")
    await alice.press("Перейти в корзину")
    await alice.press("Оформить заказ")
    await alice.send("12345")
    assert alice.text.startswith("Имя должно содержать буквы")
    await alice.send("Алиса Петрова")
    await alice.send("позвоните мне")
    assert alice.last.screens[0].text.startswith("Не похоже на номер телефона")
    await alice.send_sticker()
    assert alice.last.screens[0].text.startswith("Пожалуйста, ответьте текстом.")
    await alice.send("89001234567")
    assert alice.last.screens[0].text == "📱 +79001234567"


async def test_forged_action_is_refused_politely(alice):
    await alice.send("/start")
    for action in ("p:999999", "o:1", "zz", "a:1:0", "co:ok", "c:abc", "x" * 300):
        reply = await alice.action(action)
        assert reply.toast == "Это больше недоступно.", action
        assert reply.screens == [], action


async def test_english_speaker_gets_english(demo):
    bob = Person(Conversation(demo), user_id=202, name="Bob", language_code="en")
    await bob.send("/start")
    assert bob.text.startswith("Hello, Bob!")
    await bob.send("mug")
    assert "Found for “mug”" in bob.text
