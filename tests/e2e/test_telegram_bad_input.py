"""Bad input of every kind gets a polite answer and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.models import CartLine, ConversationState, Customer, Order, Variant
from tests.e2e.conftest import check_out_tote_bag, seen

POLITE = {
    "Это больше недоступно.",
    "Этого товара уже нет в корзине.",
    "Столько нет в наличии: осталось 5 шт.",
}


async def _counts(shop) -> tuple[int, int, int]:
    async with shop.runtime.sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(CartLine)),
            await session.scalar(select(func.count()).select_from(Order)),
            await session.scalar(select(func.sum(Variant.stock))),
        )


async def test_forged_and_stale_buttons_say_no_longer_available(shop):
    alice = shop.user()
    await alice.send("/start")
    before = await _counts(shop)
    menu = alice.screen
    for forged in (
        "p:999999",
        "a:1:99",
        "a:999999:1",
        "o:1",
        "cd:1",
        "co:ok",
        "c:0",
        "l:de",
        "ci:abc",
        "💣",
        "a" * 64,
    ):
        await alice.press_data(forged, message=menu.message_id)
        assert alice.last_answer in POLITE, forged
    assert await _counts(shop) == before
    assert seen(alice.screen.text).startswith("Здравствуйте")


async def test_another_customers_order_is_not_shown(shop):
    alice, mallory = shop.user("Алиса"), shop.user("Мэллори")
    await check_out_tote_bag(alice)
    await alice.press("Использовать: Алиса")
    await alice.send("+79001234567")
    await alice.press("Самовывоз")
    await alice.press("Без комментария")
    await alice.press("Без чека на почту")
    await alice.press("Подтвердить заказ")
    async with shop.runtime.sessions() as session:
        order_id = await session.scalar(select(Order.id))
    await mallory.send("/orders")
    await mallory.press_data(f"o:{order_id}", message=mallory.screen.message_id)
    assert mallory.last_answer == "Это больше недоступно."
    assert "Алиса" not in mallory.screen.text


async def test_huge_and_empty_texts_are_answered_politely(shop):
    alice = shop.user()
    before = await _counts(shop)
    await alice.send("ф" * 5000)
    assert alice.screen.text.startswith("По запросу «ффффф")
    assert len(alice.screen.text) < 400
    await alice.send("🙂🙂🙂")
    assert alice.screen.text.startswith("Я не нашёл слов для поиска")
    await alice.send_sticker()
    assert alice.screen.text.startswith("Я понимаю текст и кнопки")
    await alice.send_voice()
    assert alice.screen.text.startswith("Я понимаю текст и кнопки")
    assert await _counts(shop) == before


async def test_sticker_at_checkout_re_asks(shop):
    alice = shop.user()
    await check_out_tote_bag(alice)
    await alice.send_sticker()
    assert alice.bot_messages[-1].text.startswith("Пожалуйста, ответьте текстом.")
    await alice.send("ф" * 5000)
    assert alice.bot_messages[-1].text.startswith("Имя должно содержать буквы")
    await alice.send("Алиса")
    assert "Телефон для связи" in alice.bot_messages[-2].text


async def test_start_spam_is_answered_without_piling_state(shop):
    alice = shop.user()
    before = await _counts(shop)
    for _ in range(10):
        await alice.send("/start")
    assert len([m for m in alice.messages if m.from_bot]) == 10
    assert await _counts(shop) == before == (0, 0, before[2])
    async with shop.runtime.sessions() as session:
        customers = await session.scalar(select(func.count()).select_from(Customer))
        states = (
            await session.execute(select(ConversationState.step, ConversationState.data))
        ).all()
    assert customers == 1
    assert [(step, data) for step, data in states] in ([], [(None, {})])  # one person, no step


async def test_a_press_too_old_to_answer_still_draws_its_screen(shop):
    alice = shop.user()
    await alice.send("/start")
    shop.emu.config.callback_timeout = 0.0  # every answer is late, as after an outage
    await alice.press("Каталог")
    assert seen(alice.screen.text) == "Каталог. Выберите раздел:"
