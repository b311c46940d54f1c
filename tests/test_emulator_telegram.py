"""The Telegram Bot API emulator, driven by the real aiogram client.

Each refusal is checked through aiogram so the exception class a shop
handler would catch in production is the one it gets here.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.emulators.telegram import (
    Person,
    RateLimits,
    TelegramEmulator,
    running_telegram_emulator,
    tiny_png,
)
from tests.emulators.telegram.updates import enqueue

# -- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    async with running_telegram_emulator() as emulator:
        yield emulator


@pytest.fixture
def token(emu: TelegramEmulator) -> str:
    return emu.create_bot(username="shop_bot")


@pytest.fixture
async def bot(emu: TelegramEmulator, token: str) -> AsyncIterator[Bot]:
    api = TelegramAPIServer.from_base(emu.api_server_url)
    client = Bot(token, session=AiohttpSession(api=api))
    yield client
    await client.session.close()


@contextlib.asynccontextmanager
async def polling(bot: Bot, *routers: Router) -> AsyncIterator[Dispatcher]:
    """Run a Dispatcher in long-polling mode for the duration of the block."""
    dp = Dispatcher()
    for router in routers:
        dp.include_router(router)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False))
    try:
        yield dp
    finally:
        try:
            await dp.stop_polling()
        except RuntimeError:  # never got as far as polling
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def menu_markup() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="🛍 Каталог", callback_data="catalog")],
            [InlineKeyboardButton(text="Сайт", url="https://example.com/shop")],
        ]
    )


def shop_router(seen: list[Message] | None = None) -> Router:
    """A tiny stand-in for the shop: a menu, an edit-in-place catalog, media replies."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Привет! <b>Меню</b>", parse_mode="HTML", reply_markup=menu_markup())

    @router.message(F.text == "телефон")
    async def ask_phone(message: Message) -> None:
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="📱 Отправить телефон", request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await message.answer("Поделитесь телефоном", reply_markup=keyboard)

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None
        await message.answer(
            f"Телефон {message.contact.phone_number}", reply_markup=ReplyKeyboardRemove()
        )

    @router.message(F.sticker)
    async def sticker(message: Message) -> None:
        await message.answer("стикер")

    @router.message(F.voice)
    async def voice(message: Message) -> None:
        await message.answer("голосовое")

    @router.message(F.photo)
    async def photo(message: Message) -> None:
        assert message.photo is not None and message.bot is not None
        data = await message.bot.download(message.photo[-1].file_id)
        assert data is not None
        await message.answer(f"фото {len(data.read())} байт")

    @router.message(F.document)
    async def document(message: Message) -> None:
        assert message.document is not None
        await message.answer(f"документ {message.document.file_name}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        if seen is not None:
            seen.append(message)
        await message.reply(f"echo: {message.text}")

    @router.callback_query(F.data == "catalog")
    async def catalog(query: CallbackQuery) -> None:
        await query.answer("Открываю каталог")
        assert isinstance(query.message, Message)
        back = InlineKeyboardButton(text="Назад", callback_data="back")
        await query.message.edit_text(
            "Каталог", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[back]])
        )

    @router.callback_query(F.data == "back")
    async def back(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Привет! Меню", reply_markup=menu_markup())
        await query.answer()

    return router


def assert_clean(emu: TelegramEmulator) -> None:
    """Nothing aiogram sent is unknown to the spec; nothing we answered breaks it."""
    assert emu.spec_warnings == []
    assert emu.result_problems == []


async def raw_call(emu: TelegramEmulator, token: str, method: str, **data: Any) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emu.api_server_url}/bot{token}/{method}", data=data) as resp,
    ):
        return resp.status, await resp.json()


class NoSuchMethod(TelegramMethod[bool]):
    __returning__: ClassVar[Any] = bool
    __api_method__: ClassVar[str] = "sendTelepathicMessage"


class SendMessageWithoutChat(TelegramMethod[Message]):
    __returning__: ClassVar[Any] = Message
    __api_method__: ClassVar[str] = "sendMessage"

    text: str


# -- basics --------------------------------------------------------------------------------


async def test_get_me_and_unknown_token(emu: TelegramEmulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "shop_bot"
    assert me.id == int(bot.token.split(":")[0])
    stranger = Bot(
        "42:unknown-token",
        session=AiohttpSession(api=TelegramAPIServer.from_base(emu.api_server_url)),
    )
    with pytest.raises(TelegramUnauthorizedError):
        await stranger.get_me()
    await stranger.session.close()
    # known methods without emulated behaviour still answer in the right shape
    assert await bot.set_my_description("Магазин")
    assert (await bot.get_my_name()).name == ""
    assert await bot.log_out()
    assert_clean(emu)


async def test_start_on_a_fixed_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    emu = TelegramEmulator()
    url = await emu.start(port=port)
    try:
        assert url == f"http://127.0.0.1:{port}"
        token = emu.create_bot()
        status, body = await raw_call(emu, token, "getMe")
        assert status == 200 and body["result"]["username"] == "shop_bot"
    finally:
        await emu.stop()


async def test_several_bots_keep_chats_and_file_ids_apart(emu: TelegramEmulator) -> None:
    shop, support = emu.create_bot("shop_bot"), emu.create_bot("support_bot")
    alice_shop = emu.user(shop, first_name="Alice")
    alice_support = emu.user(support, user_id=alice_shop.id)
    assert alice_support.user is alice_shop.user
    first, second = emu.make_bot(shop), emu.make_bot(support)
    try:
        sent = await first.send_photo(alice_shop.id, BufferedInputFile(tiny_png(), "p.png"))
        assert sent.photo is not None
        await second.send_message(alice_support.id, "привет от поддержки")
        with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
            await second.send_photo(alice_support.id, sent.photo[-1].file_id)
    finally:
        await first.session.close()
        await second.session.close()
    assert [m.kind for m in emu.messages(shop, alice_shop.id)] == ["photo"]
    assert [m.text for m in alice_support.messages] == ["привет от поддержки"]
    assert_clean(emu)


# -- the driver against a polling bot -------------------------------------------------------


async def test_polling_round_trip_send_press_and_edits(
    emu: TelegramEmulator, token: str, bot: Bot
) -> None:
    alice = emu.user(token, first_name="Alice", language_code="ru")
    async with polling(bot, shop_router()):
        sent = await alice.send("/start")
        assert sent.entities == [{"type": "bot_command", "offset": 0, "length": 6}]
        screen = alice.screen
        assert screen.text == "Привет! Меню"
        assert screen.entities == [{"type": "bold", "offset": 8, "length": 4}]
        assert screen.buttons == [["🛍 Каталог"], ["Сайт"]]
        assert screen.keyboard == [
            [("🛍 Каталог", "catalog")],
            [("Сайт", "https://example.com/shop")],
        ]

        await alice.press("Каталог")  # a unique substring is enough
        assert alice.last_answer == "Открываю каталог"
        assert alice.screen.message_id == screen.message_id  # edited in place
        assert alice.screen.text == "Каталог" and alice.screen.edited
        assert alice.screen.buttons == [["Назад"]]

        await alice.press("Назад")
        assert alice.screen.text == "Привет! Меню"
        assert alice.last_answer is None

        url_button = await alice.press("Сайт")
        assert url_button.data == "https://example.com/shop"

        hello = await alice.send("hello")
        assert alice.screen.text == "echo: hello"
        assert alice.screen.reply_to == hello.message_id
        assert [m.text for m in alice.messages] == [
            "/start",
            "Привет! Меню",
            "hello",
            "echo: hello",
        ]
        with pytest.raises(AssertionError, match="no button matching 'Корзина'"):
            await alice.press("Корзина")
    assert len(emu.calls("answerCallbackQuery", ok=True)) == 2
    assert_clean(emu)


async def test_driver_media_contact_and_reply_keyboard(
    emu: TelegramEmulator, token: str, bot: Bot
) -> None:
    bob = emu.user(token, first_name="Bob", phone="+79001234567")
    async with polling(bot, shop_router()):
        await bob.send("телефон")
        assert bob.reply_keyboard == [["📱 Отправить телефон"]]
        sent = await bob.press_reply("Отправить телефон")
        assert sent.contact == {
            "phone_number": "+79001234567",
            "first_name": "Bob",
            "user_id": bob.id,
        }
        assert bob.screen.text == "Телефон +79001234567"
        assert bob.reply_keyboard is None

        await bob.share_contact(phone="+79990000000")
        assert bob.screen.text == "Телефон +79990000000"
        await bob.send_sticker()
        assert bob.screen.text == "стикер"
        await bob.send_voice()
        assert bob.screen.text == "голосовое"
        picture = tiny_png(3, 2)
        await bob.send_photo(picture)
        assert bob.screen.text == f"фото {len(picture)} байт"
        sent = await bob.send_document(b"sku;price\n1;100\n", "prices.csv", caption="цены")
        assert sent.document and bob.screen.text == "документ prices.csv"
        said = await bob.send("ответ", reply_to=sent)
        assert said.reply_to == sent.message_id
    assert [m.kind for m in bob.messages if not m.from_bot] == [
        "text",
        "contact",
        "contact",
        "sticker",
        "voice",
        "photo",
        "document",
        "text",
    ]
    assert_clean(emu)


async def test_settling_reports_a_bot_that_does_not_poll() -> None:
    async with running_telegram_emulator(settle_timeout=0.2) as emu:
        token = emu.create_bot()
        carol = emu.user(token, first_name="Carol")
        with pytest.raises(AssertionError, match="did not take update"):
            await carol.send("/start")


async def test_settling_reports_a_bot_that_does_not_answer(emu: TelegramEmulator) -> None:
    emu.config.settle_timeout = 1.0
    token = emu.create_bot()
    silent = Router()

    @silent.message()
    async def ignore(message: Message) -> None:
        return None

    api = TelegramAPIServer.from_base(emu.api_server_url)
    client = Bot(token, session=AiohttpSession(api=api))
    dave = emu.user(token, first_name="Dave")
    async with polling(client, silent):
        with pytest.raises(AssertionError, match="made no call in reply"):
            await dave.send("anyone?")
        await dave.send("still nothing", expect_reply=False)
    await client.session.close()


async def test_wait_for_a_message_the_bot_sends_on_its_own_time(
    emu: TelegramEmulator, token: str, bot: Bot
) -> None:
    later: set[asyncio.Task[Any]] = set()
    router = Router()

    @router.message()
    async def order(message: Message) -> None:
        await message.answer("Заказ принят")

        async def outbox() -> None:  # the shop's outbox works on its own schedule
            await asyncio.sleep(0.2)
            await message.answer("Заказ собран")

        task = asyncio.create_task(outbox())
        later.add(task)
        task.add_done_callback(later.discard)

    vera = emu.user(token, first_name="Vera")
    async with polling(bot, router):
        await vera.send("/order")
        assert vera.screen.text == "Заказ принят"
        notice = await vera.wait_for("собран")
        assert notice.text == "Заказ собран" and vera.screen == notice
        with pytest.raises(AssertionError, match="no bot message containing 'отменён'"):
            await vera.wait_for("отменён", within=0.1)
    assert_clean(emu)


async def test_updates_the_bot_does_not_subscribe_to_are_reported(
    emu: TelegramEmulator, token: str, bot: Bot
) -> None:
    only_messages = Router()

    @only_messages.message()
    async def reply(message: Message) -> None:
        await message.answer("menu", reply_markup=menu_markup())

    erin = emu.user(token, first_name="Erin")
    async with polling(bot, only_messages):
        await erin.send("/start")
        with pytest.raises(AssertionError, match="does not receive 'callback_query'"):
            await erin.press("Каталог")


# -- getUpdates semantics ----------------------------------------------------------------------


def push_text(emu: TelegramEmulator, token: str, person: Person, text: str) -> None:
    """Queue a message update without waiting for any bot (none is polling)."""
    chat = person.chat
    api = {
        "message_id": chat.next_message_id(),
        "chat": chat.to_api(),
        "from": person.user.to_api(),
        "date": 0,
        "text": text,
    }
    enqueue(emu.world, emu.bot(token), "message", api, chat_id=chat.id)


async def test_get_updates_offsets_and_long_poll(
    emu: TelegramEmulator, token: str, bot: Bot
) -> None:
    frank = emu.user(token, first_name="Frank")
    for text in ("one", "two", "three"):
        push_text(emu, token, frank, text)

    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
    again = await bot.get_updates()  # unconfirmed updates come again
    assert [u.update_id for u in again] == [u.update_id for u in updates]
    rest = await bot.get_updates(offset=updates[0].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["two", "three"]
    last = await bot.get_updates(offset=-1)
    assert [u.message.text for u in last if u.message] == ["three"]
    assert await bot.get_updates(offset=last[0].update_id + 1) == []

    waiting = asyncio.create_task(bot.get_updates(timeout=10))
    await emu.wait_polling(token)
    assert not waiting.done()
    push_text(emu, token, frank, "wake up")
    woken = await waiting
    assert [u.message.text for u in woken if u.message] == ["wake up"]

    older = asyncio.create_task(bot.get_updates(offset=woken[0].update_id + 1, timeout=10))
    await emu.wait_polling(token)
    newer = asyncio.create_task(bot.get_updates(timeout=10))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await older
    push_text(emu, token, frank, "last")
    assert [u.message.text for u in await newer if u.message] == ["last"]
    assert_clean(emu)


# -- webhooks ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_webhook_delivery_secret_retry_and_order(
    emu: TelegramEmulator, token: str, bot: Bot
) -> None:
    emu.config.webhook_retry_delays = (0.01, 0.01)
    received: list[dict[str, Any]] = []
    secrets_seen: list[str | None] = []
    failures = {"left": 1}

    async def hook(request: web.Request) -> web.Response:
        secrets_seen.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        if failures["left"]:
            failures["left"] -= 1
            return web.Response(status=500)
        received.append(await request.json())
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", hook)
    gina = emu.user(token, first_name="Gina")
    async with serve(app) as base:
        assert await bot.set_webhook(f"{base}/hook", secret_token="s3cret-Token_1")
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        await asyncio.gather(*(gina.send(text, expect_reply=False) for text in ("1", "2", "3")))
        info = await bot.get_webhook_info()
        assert info.url == f"{base}/hook" and info.pending_update_count == 0
        assert info.last_error_message and "500" in info.last_error_message
        assert await bot.delete_webhook(drop_pending_updates=True)
    assert [u["message"]["text"] for u in received] == ["1", "2", "3"]
    assert set(secrets_seen) == {"s3cret-Token_1"} and len(secrets_seen) == 4
    assert (await bot.get_webhook_info()).url == ""
    assert_clean(emu)


async def test_aiogram_webhook_handler_and_reply_in_response(
    emu: TelegramEmulator, token: str, bot: Bot
) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> SendMessage:
        await message.answer("первый ответ")
        return message.answer("ответ в теле вебхука")  # aiogram puts it in the HTTP answer

    dp = Dispatcher()
    dp.include_router(router)
    app = web.Application()
    SimpleRequestHandler(
        dispatcher=dp, bot=bot, secret_token="hook-secret", handle_in_background=False
    ).register(app, path="/tg")
    helen = emu.user(token, first_name="Helen")
    async with serve(app) as base:
        await bot.set_webhook(f"{base}/tg", secret_token="hook-secret")
        await helen.send("/start")
    assert [m.text for m in helen.bot_messages] == ["первый ответ", "ответ в теле вебхука"]
    assert [c.via for c in emu.calls("sendMessage")] == ["http", "webhook-reply"]
    assert_clean(emu)


# -- refusals, each as the real aiogram exception -------------------------------------------


async def test_text_limits_and_entity_errors(emu: TelegramEmulator, token: str, bot: Bot) -> None:
    ivan = emu.user(token, first_name="Ivan")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ivan.id, "x" * 4097)
    await bot.send_message(ivan.id, "x" * 4096)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ivan.id, "   ")
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Can't find end tag"):
        await bot.send_message(ivan.id, "<b>жирный", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "div"'):
        await bot.send_message(ivan.id, "<div>x</div>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Unmatched end tag"):
        await bot.send_message(ivan.id, "<b><i>x</b></i>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(ivan.id, "Цена 10.5", parse_mode="MarkdownV2")
    ok = await bot.send_message(
        ivan.id, "a &lt; b &amp; <a href='https://x.org'>c</a>", parse_mode="HTML"
    )
    assert ok.text == "a < b & c"
    assert ok.entities and ok.entities[0].type == "text_link"
    mention = await bot.send_message(
        ivan.id, f'<a href="tg://user?id={ivan.id}">Иван</a>', parse_mode="HTML"
    )
    assert mention.entities and mention.entities[0].type == "text_mention"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(ivan.id, "re", reply_to_message_id=12345)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ivan.id, BufferedInputFile(tiny_png(), "p.png"), caption="c" * 1025)
    assert len(ivan.messages) == 3
    assert emu.spec_warnings == [
        "sendMessage: parameter 'reply_to_message_id' is not in Bot API 10.1"
    ]  # deprecated in the Bot API, still sent by aiogram when asked, still honoured
    assert emu.result_problems == []


async def test_keyboard_refusals(emu: TelegramEmulator, token: str, bot: Bot) -> None:
    judy = emu.user(token, first_name="Judy")

    def one(**button: Any) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="b", **button)]])

    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(judy.id, "t", reply_markup=one(callback_data="x" * 65))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(judy.id, "t", reply_markup=one(callback_data="ж" * 33))
    await bot.send_message(judy.id, "t", reply_markup=one(callback_data="ж" * 32))
    with pytest.raises(TelegramBadRequest, match="BUTTON_URL_INVALID"):
        await bot.send_message(judy.id, "t", reply_markup=one(url="javascript:alert(1)"))
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(judy.id, "t", reply_markup=one())
    with pytest.raises(TelegramBadRequest, match="exactly one"):
        await bot.send_message(
            judy.id, "t", reply_markup=one(url="https://a.ru", callback_data="x")
        )
    assert len(judy.messages) == 1
    assert_clean(emu)


async def test_edit_refusals_and_state(emu: TelegramEmulator, token: str, bot: Bot) -> None:
    kate = emu.user(token, first_name="Kate")
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="a")]]
    )
    text_message = await bot.send_message(kate.id, "v1", reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new"):
        await bot.edit_message_text(
            "v1", chat_id=kate.id, message_id=text_message.message_id, reply_markup=markup
        )
    await bot.edit_message_text("v1", chat_id=kate.id, message_id=text_message.message_id)
    assert kate.screen.buttons == []  # no reply_markup in the edit removes the keyboard
    await bot.edit_message_reply_markup(
        chat_id=kate.id, message_id=text_message.message_id, reply_markup=markup
    )
    assert kate.screen.buttons == [["A"]]
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=kate.id, message_id=999)

    photo = await bot.send_photo(kate.id, BufferedInputFile(tiny_png(), "a.png"), caption="cap")
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=kate.id, message_id=photo.message_id)
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(
            chat_id=kate.id, message_id=text_message.message_id, caption="c"
        )
    await bot.edit_message_caption(chat_id=kate.id, message_id=photo.message_id, caption="new")
    assert kate.screen.text == "new"
    new_photo = tiny_png(5, 5)
    edited = await bot.edit_message_media(
        InputMediaPhoto(media=BufferedInputFile(new_photo, "b.png"), caption="newer"),
        chat_id=kate.id,
        message_id=photo.message_id,
    )
    assert isinstance(edited, Message) and edited.photo
    assert kate.screen.photo == edited.photo[-1].file_id != photo.photo[-1].file_id  # type: ignore[index]
    assert emu.file_bytes(token, kate.screen.photo) == new_photo

    assert await bot.delete_message(kate.id, text_message.message_id)
    assert [m.message_id for m in kate.messages] == [photo.message_id]
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(kate.id, text_message.message_id)
    assert_clean(emu)


async def test_callback_query_too_old(emu: TelegramEmulator, token: str, bot: Bot) -> None:
    emu.config.callback_timeout = 0  # every answer comes too late
    errors: list[Exception] = []
    router = Router()

    @router.message()
    async def menu(message: Message) -> None:
        await message.answer("menu", reply_markup=menu_markup())

    @router.callback_query()
    async def slow(query: CallbackQuery) -> None:
        try:
            await query.answer("late")
        except TelegramBadRequest as exc:
            errors.append(exc)

    leo = emu.user(token, first_name="Leo")
    async with polling(bot, router):
        await leo.send("/start")
        await leo.press("Каталог")
    assert len(errors) == 1
    assert "query is too old and response timeout expired or query ID is invalid" in str(errors[0])
    assert leo.last_answer is None


async def test_blocked_user_not_started_and_migrated_group(
    emu: TelegramEmulator, token: str, bot: Bot
) -> None:
    mia = emu.user(token, first_name="Mia")
    await bot.send_message(mia.id, "hi")
    await mia.block(wait=False)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(mia.id, "hi again")
    stranger = emu.user(token, first_name="Nick", started=False)
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(stranger.id, "hello")

    group = emu.group(token, "Old group", supergroup=False)
    await bot.send_message(group.id, "before")
    supergroup = await group.migrate(wait=False)
    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(group.id, "after")
    assert caught.value.migrate_to_chat_id == supergroup.id
    assert "group chat was upgraded to a supergroup chat" in caught.value.message
    await bot.send_message(supergroup.id, "after")
    assert supergroup.screen.text == "after"
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(-100123, "nobody")
    assert_clean(emu)


async def test_rate_limits_when_switched_on(emu: TelegramEmulator, token: str, bot: Bot) -> None:
    olga = emu.user(token, first_name="Olga")
    for i in range(5):  # off by default
        await bot.send_message(olga.id, f"free {i}")
    emu.config.rate_limits.enabled = True
    emu.config.rate_limits.per_private_chat_per_second = 0.01  # no refill during the test
    for i in range(3):  # the burst
        await bot.send_message(olga.id, f"burst {i}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(olga.id, "one too many")
    assert caught.value.retry_after >= 1
    assert "Too Many Requests: retry after" in caught.value.message
    assert olga.screen.text == "burst 2"


async def test_group_and_bot_wide_rate_limits() -> None:
    limits = RateLimits(enabled=True, per_group_per_minute=2, per_bot_per_second=4)
    async with running_telegram_emulator(rate_limits=limits) as emu:
        token = emu.create_bot()
        group = emu.group(token, "Chat")
        people = [emu.user(token, first_name=f"P{i}") for i in range(3)]
        client = emu.make_bot(token)
        try:
            await client.send_message(group.id, "1")
            await client.send_message(group.id, "2")
            with pytest.raises(TelegramRetryAfter):  # 20 a minute per group, 2 here
                await client.send_message(group.id, "3")
            await client.send_message(people[0].id, "4")
            await client.send_message(people[1].id, "5")
            with pytest.raises(TelegramRetryAfter) as caught:  # bot-wide, across chats
                await client.send_message(people[2].id, "6")
            assert caught.value.retry_after == 1
            assert caught.value.message.endswith("Too Many Requests: retry after 1")
            assert len(emu.sends) == 4
        finally:
            await client.session.close()


async def test_unknown_file_id_missing_field_wrong_type_unknown_method(
    emu: TelegramEmulator, token: str, bot: Bot
) -> None:
    pat = emu.user(token, first_name="Pat")
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_photo(pat.id, "AgACAgIAAxkBAAInvalid")
    with pytest.raises(TelegramBadRequest, match="chat_id is empty"):
        await bot(SendMessageWithoutChat(text="hi"))
    with pytest.raises(TelegramNotFound, match="Not Found"):
        await bot(NoSuchMethod())
    status, body = await raw_call(
        emu, token, "sendMessage", chat_id=str(pat.id), text="x", message_thread_id="abc"
    )
    assert (status, body["ok"], body["error_code"]) == (400, False, 400)
    assert (
        body["description"] == 'Bad Request: parameter "message_thread_id" must be of type Integer'
    )
    status, body = await raw_call(
        emu, token, "sendMessage", chat_id=str(pat.id), text="x", reply_markup="{not json"
    )
    assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"
    status, body = await raw_call(emu, token, "sendMessage", chat_id=str(pat.id))
    assert body["description"] == "Bad Request: message text is empty"
    assert pat.messages == []
    status, body = await raw_call(emu, token, "getMe", surprise="1")
    assert status == 200
    assert emu.spec_warnings == ["getMe: parameter 'surprise' is not in Bot API 10.1"]


# -- files ------------------------------------------------------------------------------------


async def test_photo_upload_then_file_id_reuse(emu: TelegramEmulator, token: str, bot: Bot) -> None:
    quinn = emu.user(token, first_name="Quinn")
    picture = tiny_png(4, 3)
    first = await bot.send_photo(quinn.id, BufferedInputFile(picture, "item.png"), caption="A")
    assert first.photo is not None
    size = first.photo[-1]
    assert (size.width, size.height) == (4, 3)
    again = await bot.send_photo(quinn.id, size.file_id, caption="B")
    assert again.photo is not None and again.photo[-1].file_id == size.file_id
    assert again.photo[-1].file_unique_id == size.file_unique_id
    uploads = [c for c in emu.calls("sendPhoto") if c.uploads]
    assert len(uploads) == 1 and len(emu.calls("sendPhoto")) == 2
    assert [m.photo for m in quinn.messages] == [size.file_id, size.file_id]

    file = await bot.get_file(size.file_id)
    assert file.file_path
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == picture

    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(quinn.id, BufferedInputFile(b"not an image", "x.png"))
    document = await bot.send_document(quinn.id, BufferedInputFile(b"a;b\n1;2\n", "prices.csv"))
    assert document.document and document.document.file_name == "prices.csv"
    album = await bot.send_media_group(
        quinn.id,
        [
            InputMediaPhoto(media=size.file_id, caption="1"),
            InputMediaPhoto(media=BufferedInputFile(tiny_png(), "2.png")),
        ],
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert_clean(emu)


async def test_copy_forward_and_chat_action(emu: TelegramEmulator, token: str, bot: Bot) -> None:
    rita = emu.user(token, first_name="Rita")
    group = emu.group(token, "Staff")
    async with polling(bot, shop_router()):
        said = await rita.send("жалоба")
    copied = await bot.copy_message(group.id, rita.id, said.message_id)
    forwarded = await bot.forward_message(group.id, rita.id, said.message_id)
    assert forwarded.forward_origin is not None
    assert [m.text for m in group.messages] == ["жалоба", "жалоба"]
    assert group.messages[0].message_id == copied.message_id
    assert await bot.send_chat_action(rita.id, "typing")
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(group.id, rita.id, 9999)
    assert_clean(emu)


# -- chats, members, commands, topics --------------------------------------------------------------


async def test_commands_per_scope_and_language(emu: TelegramEmulator, token: str, bot: Bot) -> None:
    ru = [BotCommand(command="start", description="Начать")]
    en = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="cart", description="Cart"),
    ]
    await bot.set_my_commands(ru)
    await bot.set_my_commands(en, language_code="en")
    await bot.set_my_commands(en[1:], scope=BotCommandScopeAllPrivateChats())
    assert [c.description for c in await bot.get_my_commands()] == ["Начать"]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["start", "cart"]
    private = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert [c.command for c in private] == ["cart"]
    assert emu.commands(token, language_code="en")[1] == {"command": "cart", "description": "Cart"}
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Command", description="x")])
    assert await bot.delete_my_commands(language_code="en")
    assert await bot.get_my_commands(language_code="en") == []
    assert_clean(emu)


async def test_get_chat_and_member_statuses(emu: TelegramEmulator, token: str, bot: Bot) -> None:
    sam = emu.user(token, first_name="Sam", username="sam")
    group = emu.group(token, "Moderators", forum=True)
    group.set_status(sam, "administrator")
    chat = await bot.get_chat(group.id)
    assert chat.type == "supergroup" and chat.is_forum and chat.title == "Moderators"
    private = await bot.get_chat(sam.id)
    assert private.first_name == "Sam" and private.username == "sam"
    member = await bot.get_chat_member(group.id, sam.id)
    assert member.status == "administrator"
    group.set_status(sam, "kicked")
    assert (await bot.get_chat_member(group.id, sam.id)).status == "kicked"
    other = emu.user(token, first_name="Tom")
    assert (await bot.get_chat_member(group.id, other.id)).status == "left"
    me = await bot.get_chat_member(group.id, (await bot.get_me()).id)
    assert me.status == "administrator"
    assert_clean(emu)


async def test_forum_topics_and_messages_in_them(
    emu: TelegramEmulator, token: str, bot: Bot
) -> None:
    group = emu.group(token, "Moderators", forum=True)
    staff = emu.user(token, first_name="Staff")
    topic = await bot.create_forum_topic(group.id, "Тикет #1")
    assert topic.name == "Тикет #1" and topic.message_thread_id
    sent = await bot.send_message(
        group.id, "Новая жалоба", message_thread_id=topic.message_thread_id
    )
    assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(group.id, "x", message_thread_id=99999)

    router = Router()

    @router.message(F.message_thread_id)
    async def in_topic(message: Message) -> None:
        await message.answer(f"принято: {message.text}")  # answers into the same topic

    async with polling(bot, router):
        said = await staff.send_in(group, "Ответ клиенту", thread_id=topic.message_thread_id)
    assert said.thread_id == topic.message_thread_id
    view = group.topic("Тикет #1")
    assert view.texts == ["Новая жалоба", "Ответ клиенту", "принято: Ответ клиенту"]

    take = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Взять", callback_data="take:1")]]
    )
    ticket = await bot.send_message(
        group.id, "Тикет #1: ждёт", message_thread_id=topic.message_thread_id, reply_markup=take
    )
    taker = Router()

    @taker.callback_query(F.data == "take:1")
    async def take_ticket(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"Тикет #1: взял {query.from_user.first_name}")
        await query.answer()

    async with polling(bot, taker):
        in_group = next(m for m in group.messages if m.message_id == ticket.message_id)
        await staff.press("Взять", in_=in_group)
    assert group.topic(topic.message_thread_id).texts[-1] == "Тикет #1: взял Staff"
    with pytest.raises(AssertionError, match="no bot message with an inline keyboard"):
        await staff.press("Взять", group=group)

    await bot.edit_forum_topic(group.id, topic.message_thread_id, name="Тикет #1 (закрыт)")
    await bot.close_forum_topic(group.id, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(group.id, topic.message_thread_id)
    assert group.topics[0].closed and group.topics[0].name == "Тикет #1 (закрыт)"
    await bot.reopen_forum_topic(group.id, topic.message_thread_id)
    plain = emu.group(token, "Plain")
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(plain.id, "x")
    assert_clean(emu)


# -- payments ---------------------------------------------------------------------------------


def payment_router(answers: dict[str, Any]) -> Router:
    router = Router()

    @router.message(CommandStart())
    async def invoice(message: Message) -> None:
        await message.answer_invoice(
            title="Заказ #7",
            description="Футболка, 2 шт.",
            payload="order:7",
            provider_token="381764678:TEST:1",
            currency="RUB",
            prices=[LabeledPrice(label="Футболка", amount=150000)],
            need_phone_number=True,
        )

    @router.pre_checkout_query()
    async def check(query: PreCheckoutQuery) -> None:
        answers["payload"] = query.invoice_payload
        if answers.get("mode") == "silent":
            return
        if answers.get("mode") == "decline":
            await query.answer(ok=False, error_message="Товар закончился")
        else:
            await query.answer(ok=True)

    @router.message(F.successful_payment)
    async def paid(message: Message) -> None:
        assert message.successful_payment is not None
        payment = message.successful_payment
        await message.answer(
            f"Оплачено {payment.total_amount / 100:.0f} ₽ ({payment.invoice_payload})"
        )

    return router


async def test_invoice_pre_checkout_and_successful_payment(
    emu: TelegramEmulator, token: str, bot: Bot
) -> None:
    answers: dict[str, Any] = {}
    uma = emu.user(token, first_name="Uma")
    async with polling(bot, payment_router(answers)):
        await uma.send("/start")
        assert uma.screen.invoice is not None
        assert uma.screen.invoice["total_amount"] == 150000
        assert uma.screen.buttons == [["Pay 1500.00 RUB"]]
        result = await uma.pay()
        assert result.ok and not result.timed_out
        assert answers["payload"] == "order:7"
        assert uma.screen.text == "Оплачено 1500 ₽ (order:7)"
        assert result.message is not None and result.message.kind == "successful_payment"

        answers["mode"] = "decline"
        declined = await uma.pay()
        assert not declined.ok and declined.error_message == "Товар закончился"
        assert uma.screen.text == "Оплачено 1500 ₽ (order:7)"  # nothing new

        emu.config.precheckout_timeout = 0.1
        answers["mode"] = "silent"
        late = await uma.pay()
        assert late.timed_out and not late.ok
    with pytest.raises(TelegramBadRequest, match="PAYMENT_PROVIDER_INVALID"):
        await bot.send_invoice(
            uma.id, "t", "d", "p", currency="RUB", prices=[LabeledPrice(label="x", amount=100)]
        )
    assert_clean(emu)
