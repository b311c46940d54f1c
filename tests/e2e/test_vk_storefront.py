"""The VK storefront through the VK emulator with the real vk_api client, on SQLite and
PostgreSQL: a person presses the buttons the bot shows and reads what it answers.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import OutboxDelivery
from bot.http import create_web_app
from bot.inbox import InboxWorker
from bot.pacing import Pacer
from bot.vk.frontend import WEBHOOK_PATH, VkFrontend
from bot.vk_session import make_vk_api
from handlers.conversation import Conversation
from handlers.screens import Reply, Screen
from shop.accounts import Channel
from shop.db import create_engine, create_session_factory
from shop.demo import load_demo_catalog
from shop.models import (
    CartLine,
    ChannelAccount,
    InboxEvent,
    InboxStatus,
    Order,
    OrderStatus,
    OutboxMessage,
    OutboxStatus,
    ProductPhoto,
    Variant,
)
from shop.models.catalog import MediaCache
from shop.orders import transition
from shop.placeholder import placeholder_png
from tests.e2e.conftest import eventually, free_port, seen
from tests.emulators.vk import Group, Person, VkEmulator

NOT_AVAILABLE = "Это больше недоступно."
POLITE = {NOT_AVAILABLE, "Столько нет в наличии: осталось 5 шт."}


@dataclass
class VkShop:
    """A running VK storefront and the emulated VK its shoppers use."""

    emu: VkEmulator
    group: Group
    sessions: async_sessionmaker[AsyncSession]
    frontend: VkFrontend
    base_url: str

    def user(self, first_name: str = "Алиса", lang: str = "ru", **kwargs: object) -> Person:
        return self.emu.user(self.group, first_name=first_name, lang=lang, **kwargs)  # type: ignore[arg-type]


@asynccontextmanager
async def running_shop(
    emu: VkEmulator,
    database_url: str,
    *,
    callback_secret: str | None = None,
    group: Group | None = None,
    port: int | None = None,
    typing_after: float = 1.0,
) -> AsyncIterator[VkShop]:
    """The demo shop's VK bot: long poll, or the Callback API when a secret is given; a
    ``group`` given runs that community's bot again (a restart), on ``port`` if given."""
    group = group or emu.create_group("Демо-магазин", "demo_shop")
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await load_demo_catalog(session)
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    worker = InboxWorker(sessions)
    frontend = VkFrontend(
        make_vk_api(group.token, group.id, emu.api_url),
        Conversation(sessions),
        sessions,
        worker,
        group_id=group.id,
        callback_url=base_url if callback_secret is not None else "",
        callback_secret=callback_secret or "",
        typing_after=typing_after,  # well above a quick answer's time, even on a busy machine
    )
    app = create_web_app(engine)
    frontend.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    delivery = OutboxDelivery(sessions, {Channel.VK: frontend}, pacer=Pacer(chat_gap=0.0))
    delivering = asyncio.create_task(delivery.run_forever(idle=0.05))
    sweeping = asyncio.create_task(worker.run_sweeper(every=0.2))
    try:
        await frontend.start()
        if callback_secret is None:
            await emu.wait_for_bot(group)
        else:
            await emu.wait_for_callback(group)  # the bot registered itself, VK confirmed it
        yield VkShop(emu, group, sessions, frontend, base_url)
    finally:
        await frontend.stop()
        await worker.close()
        delivering.cancel()
        sweeping.cancel()
        await asyncio.gather(delivering, sweeping, return_exceptions=True)
        await runner.cleanup()
        await engine.dispose()
    assert emu.warnings == []


@pytest.fixture
async def vk() -> AsyncIterator[VkEmulator]:
    emu = VkEmulator(settle_timeout=10.0)
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
async def shop(vk: VkEmulator, database_url: str) -> AsyncIterator[VkShop]:
    async with running_shop(vk, database_url) as running:
        yield running


async def _all_handled(sessions: async_sessionmaker[AsyncSession]) -> bool:
    async with sessions() as session:
        statuses = set((await session.execute(select(InboxEvent.status))).scalars())
    return statuses == {InboxStatus.DONE}


def labels(person: Person) -> list[str]:
    return [label for row in person.screen.buttons for label in row]


async def tap(person: Person, start: str) -> None:
    """Press the button of the bot's last message whose label starts with ``start``."""
    found = [label for label in labels(person) if seen(label).startswith(start)]
    assert found, f"no button {start!r} in {labels(person)}"
    await person.press(found[0])


async def counts(shop: VkShop) -> tuple[int, int, int]:
    async with shop.sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(CartLine)) or 0,
            await session.scalar(select(func.count()).select_from(Order)) or 0,
            await session.scalar(select(func.sum(Variant.stock))) or 0,
        )


async def place_order(person: Person) -> None:
    await person.send("шопер")
    await tap(person, "Шопер")
    await tap(person, "🛒 В корзину")
    await tap(person, "Перейти в корзину")
    await tap(person, "✅ Оформить заказ")
    await tap(person, "Использовать")
    await person.send("+79001234567")
    await tap(person, "Самовывоз")
    await tap(person, "Без комментария")
    await tap(person, "Без чека на почту")
    await tap(person, "✅ Подтвердить")
    assert "оформлен" in person.screen.text


async def test_from_start_to_my_orders(shop: VkShop) -> None:
    alice = shop.user()
    await alice.send("Начать", payload='{"command":"start"}')
    assert seen(alice.screen.text).startswith("Здравствуйте, Алиса!")
    menu = alice.screen.message
    assert alice.screen.keyboard is not None and alice.screen.keyboard.inline
    await tap(alice, "🛍 Каталог")
    assert alice.screen.message.id == menu.id  # navigation edits in place
    await tap(alice, "Одежда")
    await tap(alice, "Футболки")
    await tap(alice, "Футболка «Байкал»")
    card = alice.screen
    assert [a.type for a in card.attachments] == ["photo"]
    # Five sizes, quantity, add, back: too many for an inline keyboard, so a one-time one.
    assert card.keyboard is not None and not card.keyboard.inline and card.keyboard.one_time
    assert [m.id for m in alice.bot_messages] == [card.message.id]  # the list made way
    await alice.press("M, чёрная")
    assert "Цена: 1 590 ₽" in seen(alice.screen.text)
    await alice.press("+")
    await tap(alice, "🛒 В корзину")
    assert alice.screen.text.startswith("Добавлено в корзину: 2 шт.")
    await tap(alice, "Перейти в корзину (2)")
    assert "Итого: 3 180 ₽" in seen(alice.screen.text)
    cart = alice.screen.message.id
    await alice.press("+")
    assert "Итого: 4 770 ₽" in seen(alice.screen.text)
    await alice.press("−")
    assert alice.screen.message.id == cart
    await tap(alice, "✅ Оформить заказ")
    await alice.send("Алиса Иванова")
    # VK has no "share phone" control: the number is typed, and nothing mentions a button
    assert alice.screen.text.startswith("Телефон для связи. Напишите номер")
    await alice.send("8 (900) 123-45-67")
    assert alice.screen.text.startswith("Как доставить заказ?")
    await tap(alice, "Курьер по городу")
    await alice.send("Москва, Тверская, 1, кв. 5")
    await tap(alice, "Без комментария")
    await tap(alice, "Без чека на почту")
    assert "Итого к оплате: 3 530 ₽" in seen(alice.screen.text)
    await tap(alice, "✅ Подтвердить")
    assert "оформлен" in alice.screen.text
    await tap(alice, "📦 Мои заказы")
    assert "ожидает оплаты" in alice.screen.text

    async with shop.sessions() as session:
        order = (await session.execute(select(Order))).scalar_one()
        stock = await session.scalar(select(Variant.stock).where(Variant.sku == "DEMO-001-03"))
        account = (await session.execute(select(ChannelAccount))).scalar_one()
    assert (order.status, order.total, order.phone, order.channel) == (
        OrderStatus.AWAITING_PAYMENT,
        353_000,
        "+79001234567",
        "vk",
    )
    assert stock == 2
    assert (account.channel, account.external_id) == ("vk", alice.id)
    assert len(shop.emu.calls_to("users.get")) == 1  # the name is asked for once


async def test_toasts_show_as_snackbars(shop: VkShop) -> None:
    alice = shop.user()
    await alice.send("шопер")
    await tap(alice, "Шопер")
    assert alice.screen.keyboard is not None and alice.screen.keyboard.inline
    await tap(alice, "🛒 В корзину")
    assert alice.last_snackbar == "Добавлено в корзину: 1 шт."
    await tap(alice, "Перейти в корзину")
    await alice.press("✕")
    assert alice.last_snackbar == "Удалено из корзины"
    assert alice.screen.text.startswith("Корзина пуста")


async def test_a_message_too_old_to_edit_is_answered_anew(shop: VkShop) -> None:
    alice = shop.user()
    await alice.send("Начать")
    greeting = alice.screen.message
    shop.emu.advance_time(25 * 3600)
    await tap(alice, "❓ Помощь")
    assert alice.screen.text.startswith("Как купить")
    assert alice.screen.message.id != greeting.id
    assert alice.bot_messages[0].text.startswith("Здравствуйте")


async def test_a_screen_shown_again_for_the_same_update_is_sent_once(shop: VkShop) -> None:
    alice = shop.user()
    await alice.send("Начать")
    reply = Reply([Screen("Заказ №1: оплачен."), Screen("Спасибо!")])
    for _ in range(2):  # a retried update renders the same reply again
        await shop.frontend.renderer.show(alice.id, reply, update_id="retried-update")
    assert [m.text for m in alice.bot_messages[1:]] == ["Заказ №1: оплачен.", "Спасибо!"]


async def test_search_in_russian_and_english(shop: VkShop) -> None:
    alice = shop.user()
    await alice.send("кружки")
    assert "Нашлось по запросу «кружки»" in alice.screen.text
    await tap(alice, "Кружка керамическая")
    assert alice.screen.text.startswith("Кружка керамическая «Утро»")
    bob = shop.user("Bob", lang="en")
    await bob.send("canvas sneakers")
    assert "Found for “canvas sneakers”: 1" in bob.screen.text
    await bob.send("zzzzqqq")
    assert bob.screen.text.startswith("Nothing found for “zzzzqqq”")
    assert labels(bob) == ["🛍 Catalog", "🏠 Menu"]


async def test_forged_payloads_get_a_snackbar_and_change_nothing(shop: VkShop) -> None:
    alice = shop.user()
    await alice.send("Начать")
    menu = alice.screen.message
    before = await counts(shop)
    forged_payloads = [
        {"a": "p:999999"},
        {"a": "a:1:99"},
        {"a": "co:ok"},
        {"a": "o:1"},
        {"a": "💣"},
        {"a": "a" * 200},
        {"a": 12},
        {"command": "start"},
        {},
    ]
    for payload in forged_payloads:
        answer_id = secrets.token_hex(6)
        obj = {
            "user_id": alice.id,
            "peer_id": alice.id,
            "event_id": answer_id,
            "conversation_message_id": menu.cmid,
            "payload": payload,
        }
        inbound = shop.emu.deliver(shop.group, alice.id, "message_event", obj, answer_id)
        await alice.settle(inbound)
        assert alice.last_snackbar in POLITE, payload
        assert inbound.answered
    assert alice.snackbars.count(NOT_AVAILABLE) == len(forged_payloads) - 1
    assert await counts(shop) == before
    assert seen(alice.screen.text).startswith("Здравствуйте, Алиса!")
    assert len(alice.bot_messages) == 1


async def test_photos_and_files_where_text_is_expected(shop: VkShop) -> None:
    alice = shop.user()
    before = await counts(shop)
    await alice.send(photo=placeholder_png((200, 30, 30), size=8))
    assert alice.screen.text.startswith("Я понимаю текст и кнопки")
    await alice.send(document=("list.txt", b"milk, bread"))
    assert alice.screen.text.startswith("Я понимаю текст и кнопки")
    assert await counts(shop) == before

    await alice.send("шопер")
    await tap(alice, "Шопер")
    await tap(alice, "🛒 В корзину")
    await tap(alice, "Перейти в корзину")
    await tap(alice, "✅ Оформить заказ")
    await alice.send(photo=placeholder_png((200, 30, 30), size=8))
    assert alice.screen.text.startswith("Пожалуйста, ответьте текстом.")
    await alice.send("Алиса")
    assert "Телефон для связи" in alice.screen.text


async def test_a_photo_is_uploaded_once_then_sent_by_attachment(shop: VkShop) -> None:
    first, second = shop.user("Аня"), shop.user("Борис")
    for person in (first, second):
        await person.send("термокружка")
        await tap(person, "Термокружка")
    assert len(shop.emu.calls_to("photos.saveMessagesPhoto")) == 1
    shown = [str(p.screen.attachments[0]) for p in (first, second)]
    assert shown[0] == shown[1]
    async with shop.sessions() as session:
        cached = await session.scalar(
            select(MediaCache.remote_id).where(MediaCache.channel == "vk")
        )
    assert cached == shown[0]


async def test_a_stale_cached_attachment_is_replaced_by_a_new_upload(shop: VkShop) -> None:
    async with shop.sessions() as session, session.begin():
        photo_ids = (await session.execute(select(ProductPhoto.id))).scalars().all()
        stale = "photo-1_456_deadbeef"
        session.add_all(MediaCache(channel="vk", photo_id=i, remote_id=stale) for i in photo_ids)
    alice = shop.user()
    await alice.send("термокружка")
    await tap(alice, "Термокружка")
    shown = str(alice.screen.attachments[0])
    async with shop.sessions() as session:
        cached = set((await session.execute(select(MediaCache.remote_id))).scalars())
    assert shown in cached and len(shop.emu.calls_to("photos.saveMessagesPhoto")) == 1


async def test_long_poll_survives_lost_keys_and_history(shop: VkShop) -> None:
    alice = shop.user()
    poll = shop.emu.longpoll(shop.group)
    for code in (1, 2, 3):
        checks = poll.checks
        shop.emu.longpoll_fail(shop.group, code)
        await eventually(lambda before=checks: poll.checks > before and poll.waiting)  # taken
        await alice.send("/help")
        assert alice.screen.text.startswith("Как купить")


async def test_status_change_reaches_the_shopper_through_the_outbox(shop: VkShop) -> None:
    alice = shop.user()
    await place_order(alice)
    async with shop.sessions() as session, session.begin():
        order = (await session.execute(select(Order))).scalar_one()
        await transition(session, order.id, OrderStatus.PAID, actor="system")
    await alice.wait_until(lambda: alice.screen.text == f"Заказ №{order.id}: оплачен.")
    await alice.press("📦 Мои заказы")
    assert "Статус: оплачен" in alice.screen.text


async def test_a_shopper_who_forbade_messages_is_marked_unreachable(shop: VkShop) -> None:
    alice = shop.user()
    await place_order(alice)
    alice.forbid_messages()
    async with shop.sessions() as session, session.begin():
        order = (await session.execute(select(Order))).scalar_one()
        await transition(session, order.id, OrderStatus.CANCELLED, actor="staff:vk:1")

    async def settled() -> bool:
        async with shop.sessions() as session:
            message = (await session.execute(select(OutboxMessage))).scalar_one()
            account = (await session.execute(select(ChannelAccount))).scalar_one()
        return message.status == OutboxStatus.FAILED and not account.reachable

    await eventually(settled)
    assert shop.emu.calls_to("messages.send")[-1].error is not None


async def test_flood_control_postpones_a_notification(shop: VkShop) -> None:
    alice = shop.user()
    await place_order(alice)
    shop.emu.fail_next("messages.send", 9)
    async with shop.sessions() as session, session.begin():
        order = (await session.execute(select(Order))).scalar_one()
        await transition(session, order.id, OrderStatus.PAID, actor="system")

    async def postponed() -> bool:
        async with shop.sessions() as session:
            message = (await session.execute(select(OutboxMessage))).scalar_one()
        return message.status == OutboxStatus.PENDING and message.last_error == "rate limited"

    await eventually(postponed)


async def test_callback_api_confirms_checks_the_secret_and_drops_duplicates(
    vk: VkEmulator, database_url: str
) -> None:
    async with running_shop(vk, database_url, callback_secret="s3cret") as shop:
        alice = shop.user()
        await alice.send("Начать")
        assert alice.screen.text.startswith("Здравствуйте, Алиса!")
        await tap(alice, "❓ Помощь")
        assert alice.screen.text.startswith("Как купить")
        pushed = [(a.type, a.body) for a in vk.callback_log(shop.group)]
        assert pushed == [
            ("confirmation", shop.group.confirmation),
            ("message_new", "ok"),
            ("message_event", "ok"),
        ]

        inbound = await alice.send("кружки")
        sends = len(vk.calls_to("messages.send"))
        url = shop.base_url + WEBHOOK_PATH
        async with aiohttp.ClientSession() as http:
            forged = {**inbound.update, "event_id": "forged-1", "secret": "wrong"}
            answer = await http.post(url, json=forged)
            assert answer.status == 403
            for _ in range(3):  # VK retrying a delivery it thinks was lost
                again = await http.post(url, json={**inbound.update, "secret": "s3cret"})
                assert (again.status, await again.text()) == (200, "ok")
            other = await http.post(url, data=json.dumps({"type": "confirmation", "group_id": 1}))
            assert other.status == 403
        await eventually(lambda: _all_handled(shop.sessions))  # the duplicates were dropped
        assert len(vk.calls_to("messages.send")) == sends
        assert len([m for m in alice.bot_messages if m.text.startswith("Нашлось")]) == 1
