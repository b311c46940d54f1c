"""The staff order desk through both messengers: cards in the staff chats, moves from
Telegram and VK, the shopper told each step in their own channel and language."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import Runtime, start
from handlers.texts import t
from shop.accounts import AccountRef, Channel
from shop.models import AuditEntry, CartLine, Customer, Order, OrderStatus, PostedCard
from shop.models.types import utcnow
from shop.reservations import expire_unpaid_orders
from tests.e2e.conftest import eventually, seen
from tests.emulators.telegram import Person, TelegramEmulator
from tests.emulators.vk import Group, VkEmulator
from tests.emulators.vk import Person as VkPerson

PROVIDER_TOKEN = "381764678:TEST:100500"
NOT_ALLOWED = "Это доступно только сотрудникам магазина."


@dataclass
class Desk:
    runtime: Runtime
    telegram: TelegramEmulator
    vk: VkEmulator
    group: Group
    anna: Person  # staff on Telegram
    boris: VkPerson  # staff on VK
    alice: Person  # a shopper on Telegram
    token: str


@pytest.fixture
async def desk(telegram, shop_settings) -> AsyncIterator[Desk]:
    vk = VkEmulator()
    await vk.start()
    group = vk.create_group(name="Демо-магазин", screen_name="demo_shop")
    probe = shop_settings()
    token = probe.telegram_bot_token
    anna = telegram.user(token, first_name="Анна")
    boris = vk.user(group, first_name="Борис")
    settings = shop_settings(
        vk_group_token=group.token,
        vk_group_id=group.id,
        vk_api_url=vk.api_url,
        telegram_payments_provider_token=PROVIDER_TOKEN,
        staff=[AccountRef(Channel.TELEGRAM, anna.id), AccountRef(Channel.VK, boris.id)],
    )
    runtime = await start(settings)
    await vk.wait_for_bot(group)
    alice = telegram.user(token, first_name="Алиса")
    try:
        yield Desk(runtime, telegram, vk, group, anna, boris, alice, token)
    finally:
        await runtime.stop()
        await vk.stop()
    assert telegram.spec_warnings == []
    assert vk.warnings == []


async def press_when_shown(person: Person, label: str) -> None:
    """Press ``label`` once the bot's screen shows it (a busy machine edits late)."""
    await eventually(lambda: label in str(person.screen.raw.get("reply_markup")), within=20)
    await person.press(label)


async def order_tote_bag(person: Person) -> None:
    """`tests.e2e.conftest.order_tote_bag`, each button awaited until it is on screen."""
    await person.send("шопер")
    for label in ("Шопер", "В корзину", "Перейти в корзину", "Оформить заказ", "Использовать"):
        await press_when_shown(person, label)
    await person.send("+79001234567")
    for label in ("Самовывоз", "Без комментария", "Без чека на почту", "Подтвердить заказ"):
        await press_when_shown(person, label)
    await eventually(lambda: "оформлен" in seen(person.screen.text), within=20)


def listing(messages, text: str):
    """The newest message whose text or buttons hold ``text``, or None."""
    for message in reversed(messages):
        if text in seen(message.text) or text in str(message.raw.get("reply_markup")):
            return message
    return None


def card_of(person: Person, order_id: int):
    """The latest card of the order in a Telegram staff chat."""
    cards = [m for m in person.bot_messages if f"Заказ №{order_id} от" in seen(m.text)]
    assert cards, f"no card of order {order_id} for {person.first_name}"
    return cards[-1]


async def tap(person: VkPerson, start: str) -> None:
    """Press the VK button of the bot's last message whose label starts with ``start``."""
    found = [
        label for row in person.screen.buttons for label in row if seen(label).startswith(start)
    ]
    assert found, f"no button {start!r} in {person.screen.buttons}"
    await person.press(found[0])


def vk_card_text(person: VkPerson, order_id: int) -> str:
    texts = [m.text for m in person.bot_messages if f"Заказ №{order_id} от" in seen(m.text)]
    return seen(texts[-1]) if texts else ""


async def order_ids(runtime: Runtime) -> list[int]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(Order.id).order_by(Order.id)))


async def status_of(runtime: Runtime, order_id: int) -> str:
    async with runtime.sessions() as session:
        return str(await session.scalar(select(Order.status).where(Order.id == order_id)))


async def test_staff_move_orders_from_telegram_and_vk_and_shoppers_hear_each_step(desk: Desk):
    anna, boris, alice = desk.anna, desk.boris, desk.alice
    await anna.send("/start")
    await boris.send("Начать")

    # Alice (Telegram, Russian) orders and pays: both staff chats get the cards
    await order_tote_bag(alice)
    (order_id,) = await order_ids(desk.runtime)
    await press_when_shown(alice, "Оплатить")
    await eventually(lambda: any(m.invoice for m in alice.bot_messages), within=20)
    assert (await alice.pay()).ok
    await alice.wait_for("Оплата получена")
    await eventually(lambda: "💳 Оплата получена" in seen(card_of(anna, order_id).text))
    await eventually(lambda: "💳 Оплата получена" in vk_card_text(boris, order_id))
    assert "🆕 Новый заказ" in seen(anna.bot_messages[-2].text)
    assert "Шопер «Эко»" in vk_card_text(boris, order_id)

    # both press "to assembling" at once: one move, the other told who made it
    card = card_of(anna, order_id)
    await asyncio.gather(anna.press("В сборку", message=card), boris.press("📦 В сборку"))
    await alice.wait_for("собирается")
    assert await status_of(desk.runtime, order_id) == OrderStatus.ASSEMBLING
    async with desk.runtime.sessions() as session:
        moves = await session.scalar(
            select(func.count()).where(AuditEntry.action == "order.assembling")
        )
    assert moves == 1
    told = (anna.last_answer or "") + (boris.last_snackbar or "")
    assert "уже изменил" in told

    # Boris (VK) ships with a CDEK number; Alice gets the number and the tracking link
    before = len(boris.bot_messages)
    await boris.send(f"/order {order_id}")
    await boris.wait_until(lambda: len(boris.bot_messages) > before)
    await boris.press("🚚 Отправлен", message=boris.bot_messages[-1])
    await boris.wait_until(lambda: "трек-номер" in seen(boris.screen.text))
    await boris.send("1234567890 сдэк")
    shipped = await alice.wait_for("отправлен")
    assert "Трек-номер: 1234567890" in seen(shipped.text)
    link = await alice.press("Отследить посылку", message=shipped)
    assert link.data == "https://www.cdek.ru/ru/tracking?order_id=1234567890"
    # the cards posted in both chats show it, edited in place
    await eventually(lambda: "отправлен" in seen(card_of(anna, order_id).text))
    await eventually(lambda: "1234567890" in vk_card_text(boris, order_id))

    # Anna (Telegram) marks it delivered from her card
    await anna.press("Доставлен", message=card_of(anna, order_id))
    await alice.wait_for("доставлен")
    assert await status_of(desk.runtime, order_id) == OrderStatus.DELIVERED

    # Bob (VK) orders for pickup and reads English; Anna cancels it with a reason
    bob = desk.vk.user(desk.group, first_name="Bob")
    await bob.send("Начать")
    for step in ("шопер", "Шопер", "🛒 В корзину", "Перейти в корзину", "✅ Оформить заказ"):
        await (bob.send(step) if step == "шопер" else tap(bob, step))
    await tap(bob, "Использовать")
    await bob.send("+79001234567")
    for step in ("Самовывоз", "Без комментария", "Без чека на почту", "✅ Подтвердить"):
        await tap(bob, step)
    await bob.send("/language")
    await tap(bob, "English")
    bobs = (await order_ids(desk.runtime))[-1]
    await eventually(lambda: vk_card_text(boris, bobs))  # Bob's card reached the staff
    await anna.send("/orders awaiting_payment")
    await eventually(lambda: listing(anna.bot_messages, "Заказы (ожидает оплаты)"))
    await anna.press(f"№{bobs}", message=listing(anna.bot_messages, "Заказы (ожидает оплаты)"))
    await eventually(lambda: "почему отменяем" not in seen(anna.screen.text))
    await anna.press("Отменить", message=anna.screen)
    await anna.wait_for("почему отменяем")
    await anna.send("нет в наличии")
    await bob.wait_until(lambda: "is cancelled" in seen(bob.bot_messages[-1].text))
    assert "Reason: нет в наличии" in seen(bob.bot_messages[-1].text)
    assert await status_of(desk.runtime, bobs) == OrderStatus.CANCELLED
    async with desk.runtime.sessions() as session:
        posted = await session.scalar(select(func.count()).select_from(PostedCard))
        actors = list(await session.scalars(select(AuditEntry.actor).order_by(AuditEntry.id)))
    assert posted == 6  # Alice's new order and payment, Bob's new order; in two chats each
    assert actors[-1] == f"telegram:{anna.id}"
    assert f"vk:{boris.id}" in actors


async def test_a_shopper_is_refused_every_staff_command_and_forged_button(desk: Desk, caplog):
    alice, mallory = desk.alice, desk.telegram.user(desk.token, first_name="Мэллори")
    await order_tote_bag(alice)
    (order_id,) = await order_ids(desk.runtime)
    caplog.set_level(logging.WARNING, logger="shop.roles")
    await mallory.send(f"/order {order_id}")
    await mallory.wait_for(NOT_ALLOWED)
    await mallory.send("/orders")  # a shopper's own orders: none
    await mallory.wait_for(t("ru", "orders.empty"))
    forged = [
        f"desk:o:{order_id}",
        "desk:l:open:1",
        f"desk:take:{order_id}:awaiting_payment",
        f"desk:ship:{order_id}:awaiting_payment",
        f"desk:deliver:{order_id}:awaiting_payment",
        f"desk:cancel:{order_id}:awaiting_payment",
        f"desk:nr:{order_id}:awaiting_payment",
        f"desk:refund:{order_id}:awaiting_payment",
        f"desk:rw:{order_id}:awaiting_payment",
        f"desk:rl:{order_id}:1:awaiting_payment",
        f"desk:cash:{order_id}:awaiting_payment",
        f"desk:cashback:{order_id}:awaiting_payment",
    ]
    screen = mallory.screen
    answers = []
    for data in forged:
        await mallory.press_data(data, message=screen)
        answers.append(mallory.last_answer)
    # A press not handled within a second is answered bare (bot.frontend.ANSWER_WITHIN),
    # so a busy machine may drop a toast; none of them is anything but the refusal.
    assert set(answers) <= {NOT_ALLOWED, None} and answers.count(NOT_ALLOWED) > 0
    assert await status_of(desk.runtime, order_id) == OrderStatus.AWAITING_PAYMENT
    async with desk.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    refusals = [r for r in caplog.records if r.getMessage().startswith("refused")]
    assert len(refusals) == len(forged) + 1


async def test_cards_in_the_moderator_chat_are_worked_there(telegram, shop_settings):
    token = shop_settings().telegram_bot_token
    anna = telegram.user(token, first_name="Анна")
    moderators = telegram.group(token, "Модераторы")
    settings = shop_settings(
        moderator_chat=f"telegram:{moderators.id}",
        staff=[AccountRef(Channel.TELEGRAM, anna.id)],
    )
    runtime = await start(settings)
    try:
        alice = telegram.user(token, first_name="Алиса")
        await order_tote_bag(alice)
        (order_id,) = await order_ids(runtime)
        card = await moderators.wait_for(f"Заказ №{order_id} от")
        assert "🆕 Новый заказ" in seen(card.text)
        assert anna.bot_messages == []  # staff are told in the group, not one by one
        await anna.press("Отменить", group=moderators)
        await moderators.wait_for("почему отменяем")
        await anna.send_in(moderators, "нет в наличии")
        told = await alice.wait_for("отменён")
        assert "Причина: нет в наличии" in seen(told.text)
        await eventually(lambda: "— отменён" in seen(card_in(moderators, order_id)))
        await anna.send_in(moderators, "/orders cancelled")
        await eventually(lambda: listing(moderators.messages, f"№{order_id} · отменён"))
    finally:
        await runtime.stop()


def card_in(group, order_id: int) -> str:
    texts = [m.text for m in group.messages if f"Заказ №{order_id} от" in seen(m.text)]
    return texts[0] if texts else ""


async def test_an_expired_order_is_ordered_again_and_consent_is_kept_in_settings(desk: Desk):
    alice = desk.alice
    await order_tote_bag(alice)
    await expire_unpaid_orders(desk.runtime.sessions, now=utcnow() + timedelta(hours=2))
    expired = await alice.wait_for("оплата не поступила вовремя")
    await alice.press("Заказать то же снова", message=expired)
    assert "Вернул в корзину" in seen(alice.screen.text)
    async with desk.runtime.sessions() as session:
        assert await session.scalar(select(CartLine.quantity)) == 1

    await alice.send("/settings")
    assert "Новости и акции: не получаете" in seen(alice.screen.text)
    await alice.press("Получать новости и акции")
    assert "Новости и акции: получаете" in seen(alice.screen.text)
    async with desk.runtime.sessions() as session:
        customer = (
            await session.execute(select(Customer).where(Customer.display_name == "Алиса"))
        ).scalar_one()
    assert (customer.marketing_consent, customer.marketing_consent_channel) == (True, "telegram")
    assert customer.marketing_consent_at is not None
    await alice.press("Не получать новости и акции")
    assert "Новости и акции: не получаете" in seen(alice.screen.text)
