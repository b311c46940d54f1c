"""VK on par with Telegram: labels that keep their marks within 40 characters, numbered
text menus for clients without inline buttons, the community set up by the bot itself."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.http import create_web_app
from bot.inbox import InboxWorker
from bot.startup import StartupError
from bot.vk.frontend import WEBHOOK_PATH, VkFrontend
from bot.vk_session import make_vk_api
from handlers.conversation import Conversation
from shop.db import create_engine, create_session_factory
from shop.demo import load_demo_catalog
from shop.models import CartLine, Category, ChannelAccount, Customer, Product, Variant
from tests.e2e.conftest import eventually, free_port, seen
from tests.e2e.test_vk_storefront import (  # noqa: F401  (fixtures)
    VkShop,
    labels,
    running_shop,
    shop,
    tap,
    vk,
)
from tests.emulators.vk import Person, VkEmulator

LONG_TITLE = "Футболка с длинным названием «Озеро Байкал на рассвете», оверсайз"


async def _add_long_titled_product(shop: VkShop, stock: int) -> None:  # noqa: F811
    async with shop.sessions() as session, session.begin():
        category = (
            await session.execute(select(Category).where(Category.title == "Футболки"))
        ).scalar_one()
        product = Product(title=LONG_TITLE, description="Длинное название.", category=category)
        product.variants = [Variant(sku="LONG-1", price=2490_00, stock=stock)]
        session.add(product)


async def test_a_sold_out_mark_survives_a_long_title(shop: VkShop) -> None:  # noqa: F811
    await _add_long_titled_product(shop, stock=0)
    alice = shop.user()
    await alice.send("Начать")
    await tap(alice, "🛍 Каталог")
    await tap(alice, "Одежда")
    await tap(alice, "Футболки")
    long = [label for label in labels(alice) if "длинным" in label]
    assert len(long) == 1
    label = seen(long[0])
    assert len(label) <= 40
    assert label.startswith("✖ Футболка с длинным")
    assert label.endswith("… — нет в наличии")


async def test_a_price_survives_a_long_title_in_lists_and_the_cart(
    shop: VkShop,  # noqa: F811
) -> None:
    await _add_long_titled_product(shop, stock=5)
    alice = shop.user()
    await alice.send("Начать")
    await tap(alice, "🛍 Каталог")
    await tap(alice, "Одежда")
    await tap(alice, "Футболки")
    long = next(seen(label) for label in labels(alice) if "длинным" in label)
    assert len(long) <= 40 and long.endswith("… — от 2 490 ₽")
    await tap(alice, long[:20])
    await tap(alice, "🛒 В корзину")
    await tap(alice, "Перейти в корзину")
    line = next(seen(label) for label in labels(alice) if label.startswith("1."))
    assert len(line) <= 40 and line.startswith("1. Футболка с") and line.endswith("… × 1")


# the community set up by the bot itself

BOT_EVENTS = {"message_new", "message_event", "message_allow", "message_deny"}


async def test_callback_mode_registers_its_server_and_answers_the_confirmation(
    vk: VkEmulator,  # noqa: F811
    database_url: str,
) -> None:
    group = vk.create_group("Демо-магазин", "demo_shop")
    async with running_shop(vk, database_url, callback_secret="s3cret", group=group) as running:
        [server] = group.callback_servers
        assert server.url == running.base_url + WEBHOOK_PATH
        assert (server.secret_key, server.status, server.api_version) == ("s3cret", "ok", "5.199")
        assert server.events >= BOT_EVENTS and "message_reply" not in server.events
        confirmation = vk.callback_log(group)[0]
        assert (confirmation.type, confirmation.body) == ("confirmation", group.confirmation)
        alice = running.user()
        await alice.send("Начать")
        assert alice.screen.text.startswith("Здравствуйте, Алиса!")
    assert len(vk.calls_to("groups.getCallbackConfirmationCode")) == 1
    assert len(vk.calls_to("groups.addCallbackServer")) == 1


async def test_a_restart_brings_its_server_up_to_date_instead_of_adding_one(
    vk: VkEmulator,  # noqa: F811
    database_url: str,
) -> None:
    group = vk.create_group("Демо-магазин", "demo_shop")
    port = free_port()
    async with running_shop(vk, database_url, callback_secret="old", group=group, port=port):
        pass
    async with running_shop(
        vk, database_url, callback_secret="n3w", group=group, port=port
    ) as running:
        [server] = group.callback_servers
        assert (server.secret_key, server.status) == ("n3w", "ok")
        alice = running.user()
        await alice.send("/help")
        assert alice.screen.text.startswith("Как купить")
    assert len(vk.calls_to("groups.addCallbackServer")) == 1
    assert len(vk.calls_to("groups.editCallbackServer")) == 1


async def test_long_poll_mode_switches_the_long_poll_on(
    vk: VkEmulator,  # noqa: F811
    database_url: str,
) -> None:
    group = vk.create_group("Демо-магазин", "demo_shop", longpoll_enabled=False)
    async with running_shop(vk, database_url, group=group) as running:
        assert group.longpoll_enabled and group.longpoll_api_version == "5.199"
        assert group.longpoll_events is not None and group.longpoll_events >= BOT_EVENTS
        alice = running.user()
        await alice.send("Начать")
        await tap(alice, "🛍 Каталог")  # a callback button: message_event is switched on
        assert alice.screen.text.startswith("Каталог")


async def test_a_token_without_management_rights_stops_the_start_with_one_line(
    vk: VkEmulator,  # noqa: F811
    database_url: str,
) -> None:
    group = vk.create_group("Демо-магазин", "demo_shop", longpoll_enabled=False)
    vk.fail_next("groups.setLongPollSettings", 15)
    with pytest.raises(StartupError) as refused:
        async with running_shop(vk, database_url, group=group):
            pass
    message = str(refused.value)
    assert message.startswith("VK_GROUP_TOKEN: the token may not manage the community")
    assert "\n" not in message


# an app without inline keyboards: numbered choices


def choice(person: Person, label: str) -> str:
    """The number the bot's last message gives the choice whose label starts with ``label``."""
    for line in seen(person.screen.text).splitlines():
        for item in line.split("   "):
            number, dot, text = item.partition(". ")
            if dot and number.isdigit() and text.startswith(label):
                return number
    raise AssertionError(f"no choice {label!r} in {person.screen.text!r}")


@pytest.mark.parametrize("keyboard", [True, False], ids=["no-inline-keyboard", "no-keyboard"])
async def test_an_app_without_inline_keyboards_chooses_by_typing_numbers(
    shop: VkShop,  # noqa: F811
    keyboard: bool,
) -> None:
    oleg = shop.user("Олег", inline_keyboard=False, keyboard=keyboard)
    await oleg.send("Начать")
    assert oleg.screen.text.startswith("Здравствуйте, Олег!")
    assert oleg.screen.keyboard is None and oleg.screen.message.keyboard is None
    assert "Чтобы выбрать, напишите номер." in oleg.screen.text
    for label in ("🛍 Каталог", "Одежда", "Футболки", "Футболка «Байкал»"):
        await oleg.send(choice(oleg, label))
    assert oleg.screen.text.startswith("Футболка «Байкал»")
    await oleg.send(choice(oleg, "M, чёрная"))
    assert "Цена: 1 590 ₽" in seen(oleg.screen.text)
    await oleg.send(choice(oleg, "+"))
    assert "2 шт." in oleg.screen.text  # the quantity, shown without a number of its own
    await oleg.send(choice(oleg, "🛒 В корзину"))
    assert oleg.screen.text.startswith("Добавлено в корзину: 2 шт.")
    await oleg.send(choice(oleg, "Перейти в корзину"))
    assert "Итого: 3 180 ₽" in seen(oleg.screen.text)
    async with shop.sessions() as session:
        lines = (await session.execute(select(CartLine))).scalars().all()
    assert [line.quantity for line in lines] == [2]
    assert shop.emu.calls_to("messages.sendMessageEventAnswer") == []
    assert all("keyboard" not in call.params for call in shop.emu.calls_to("messages.send"))


async def test_a_number_that_names_no_choice_is_searched_as_text(shop: VkShop) -> None:  # noqa: F811
    oleg = shop.user("Олег", inline_keyboard=False)
    await oleg.send("Начать")
    await oleg.send("99")
    assert not oleg.screen.text.startswith("Здравствуйте")  # answered, not as a choice
    alice = shop.user("Алиса")  # with inline buttons: a number is only text
    await alice.send("Начать")
    await alice.send("1")
    assert alice.screen.keyboard is not None and alice.screen.keyboard.inline
    assert "Чтобы выбрать" not in alice.screen.text


# "typing…" while a slow answer is prepared


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_slow_answer_shows_typing_and_a_quick_one_does_not(
    vk: VkEmulator,  # noqa: F811
    database_url: str,
) -> None:
    async with running_shop(vk, database_url) as running:  # typing after 1 s
        alice = running.user()
        await alice.send("/help")
        assert alice.screen.text.startswith("Как купить")
        assert vk.calls_to("messages.setActivity") == []
        # Slow: another transaction holds her customer row, so her answer waits for it.
        async with running.sessions() as session, session.begin():
            await session.execute(
                select(Customer.id)
                .join(ChannelAccount, ChannelAccount.customer_id == Customer.id)
                .where(ChannelAccount.external_id == alice.id)
                .with_for_update()
            )
            await alice.send("/help", wait=False)
            await eventually(lambda: vk.calls_to("messages.setActivity"))
            assert len(alice.bot_messages) == 1  # not answered yet: typing…
        await eventually(lambda: len(alice.bot_messages) == 2)
    typing = vk.calls_to("messages.setActivity")
    assert typing[0].params["peer_id"] == str(alice.id) and typing[0].params["type"] == "typing"
    reply = vk.calls_to("messages.send")[-1]
    assert all(call.seq < reply.seq for call in typing)


async def test_denying_and_allowing_messages_stops_and_resumes_notifications(
    shop: VkShop,  # noqa: F811
) -> None:
    alice = shop.user()
    await alice.send("Начать")

    async def reachable() -> bool:
        async with shop.sessions() as session:
            account = (await session.execute(select(ChannelAccount))).scalar_one()
        return account.reachable

    alice.deny_messages_from_the_community()
    await eventually(lambda: not_(reachable()))
    alice.allow_messages_from_the_community()
    await eventually(reachable)


async def not_(check: Awaitable[bool]) -> bool:
    return not await check


async def test_workers_starting_together_leave_one_server(
    vk: VkEmulator,  # noqa: F811
    database_url: str,
) -> None:
    group = vk.create_group("Демо-магазин", "demo_shop")
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await load_demo_catalog(session)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    workers = [InboxWorker(sessions) for _ in range(3)]
    frontends = [
        VkFrontend(
            make_vk_api(group.token, group.id, vk.api_url),
            Conversation(sessions),
            sessions,
            worker,
            group_id=group.id,
            callback_url=base_url,
            callback_secret="s3cret",
        )
        for worker in workers
    ]
    app = create_web_app(engine)
    frontends[0].add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.gather(*(frontend.start() for frontend in frontends))
        await vk.wait_for_callback(group)
        [server] = group.callback_servers
        assert server.url == base_url + WEBHOOK_PATH and server.events >= BOT_EVENTS
        alice = vk.user(group, first_name="Алиса")
        await alice.send("/help")
        assert [m.text[:10] for m in alice.bot_messages] == ["Как купить"]
    finally:
        for frontend, worker in zip(frontends, workers, strict=True):
            await frontend.stop()
            await worker.close()
        await runner.cleanup()
        await engine.dispose()
    assert vk.warnings == []
