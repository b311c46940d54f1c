"""The VK emulator against the real vk_api client, and the person driver on a tiny bot.

vk_api is blocking and the emulator runs on the test's own event loop, so every
client call goes through asyncio.to_thread.
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import requests
import vk_api
from aiohttp import web
from vk_api.bot_longpoll import VkBotEventType, VkBotLongPoll
from vk_api.keyboard import VkKeyboard, VkKeyboardColor

from bot.vk_session import VK_API_URL, make_vk_api, make_vk_session
from tests.emulators.vk import Group, Person, VkEmulator


def png_bytes() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def call(vk: vk_api.VkApi, method: str, **params: Any) -> Any:
    return await asyncio.to_thread(vk.method, method, params)


async def api_error(vk: vk_api.VkApi, method: str, **params: Any) -> vk_api.ApiError:
    with pytest.raises(vk_api.ApiError) as caught:
        await call(vk, method, **params)
    return caught.value


@pytest.fixture
async def emu() -> AsyncIterator[VkEmulator]:
    emulator = VkEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
def group(emu: VkEmulator) -> Group:
    return emu.create_group(name="Shop", screen_name="shop")


@pytest.fixture
def vk(emu: VkEmulator, group: Group) -> vk_api.VkApi:
    return make_vk_api(group.token, group.id, emu.api_url)


@pytest.fixture
def bob(emu: VkEmulator, group: Group) -> Person:
    return emu.user(group, first_name="Bob", last_name="Builder", lang="ru")


# the session adapter


def test_default_session_goes_to_vk_and_keeps_the_rate_limit() -> None:
    session = make_vk_session()
    assert VK_API_URL + "/" not in session.adapters
    client = make_vk_api("token", 1)
    assert client.RPS_DELAY == 0.05
    assert client.api_version == "5.199"


async def test_the_real_client_reaches_the_emulator(
    emu: VkEmulator, group: Group, vk: vk_api.VkApi
) -> None:
    answer = await call(vk, "groups.getById")
    assert answer["groups"][0]["id"] == group.id
    assert answer["groups"][0]["screen_name"] == "shop"
    assert emu.calls[-1].params["v"] == "5.199"
    assert "access_token" not in emu.calls[-1].params
    assert emu.warnings == []


# errors as VK gives them


async def test_bad_token_unknown_method_and_bad_parameters(
    emu: VkEmulator, group: Group, bob: Person, vk: vk_api.VkApi
) -> None:
    stranger = make_vk_api("not-a-token", group.id, emu.api_url)
    assert (await api_error(stranger, "groups.getById")).code == 5
    assert (await api_error(vk, "messages.sendSmoke", peer_id=bob.id)).code == 3

    missing = await api_error(vk, "messages.send", peer_id=bob.id, message="hi")
    assert missing.code == 100
    assert "random_id is undefined" in missing.error["error_msg"]
    assert {"key": "method", "value": "messages.send"} in missing.error["request_params"]

    wrong = await api_error(vk, "messages.send", peer_id="bob", random_id=1, message="hi")
    assert wrong.code == 100
    assert "peer_id not integer" in wrong.error["error_msg"]

    required = await api_error(vk, "groups.getLongPollServer")
    assert "group_id is undefined" in required.error["error_msg"]
    assert emu.warnings == []

    await call(vk, "messages.send", peer_id=bob.id, random_id=0, message="hi", colour="red")
    assert emu.warnings == ["messages.send: unknown parameter 'colour'"]


async def test_random_id_sends_once_per_hour(
    emu: VkEmulator, bob: Person, vk: vk_api.VkApi
) -> None:
    first = await call(vk, "messages.send", peer_id=bob.id, random_id=42, message="Привет")
    again = await call(vk, "messages.send", peer_id=bob.id, random_id=42, message="Привет")
    other = await call(vk, "messages.send", user_id=bob.id, random_id=43, message="Ещё")
    assert again == first and other != first
    assert [m.text for m in bob.messages] == ["Привет", "Ещё"]

    emu.advance_time(3601)
    later = await call(vk, "messages.send", peer_id=bob.id, random_id=42, message="Привет")
    assert later not in (first, other)
    assert len(bob.messages) == 3


async def test_send_to_several_peers_answers_per_peer(
    emu: VkEmulator, group: Group, bob: Person, vk: vk_api.VkApi
) -> None:
    alice = emu.user(group, first_name="Alice")
    alice.forbid_messages()
    answer = await call(
        vk, "messages.send", peer_ids=f"{bob.id},{alice.id}", random_id=7, message="Акция"
    )
    assert answer[0]["peer_id"] == bob.id and answer[0]["conversation_message_id"] == 1
    assert answer[1]["error"]["code"] == 901
    assert bob.screen.text == "Акция" and alice.messages == []


async def test_text_limits(bob: Person, vk: vk_api.VkApi) -> None:
    too_long = await api_error(vk, "messages.send", peer_id=bob.id, random_id=0, message="я" * 9001)
    assert too_long.code == 914
    empty = await api_error(vk, "messages.send", peer_id=bob.id, random_id=0, message="  ")
    assert empty.code == 100
    await call(vk, "messages.send", peer_id=bob.id, random_id=0, message="я" * 9000)
    assert len(bob.screen.text) == 9000


async def test_forbidden_person_and_flood_control(
    emu: VkEmulator, bob: Person, vk: vk_api.VkApi
) -> None:
    bob.forbid_messages()
    assert (
        await api_error(vk, "messages.send", peer_id=bob.id, random_id=0, message="x")
    ).code == 901
    bob.allow_messages()

    emu.set_flood_control(2)
    for n in range(2):
        await call(vk, "messages.send", peer_id=bob.id, random_id=0, message=f"n{n}")
    flood = await api_error(vk, "messages.send", peer_id=bob.id, random_id=0, message="n2")
    assert flood.code == 9
    assert [m.text for m in bob.messages] == ["n0", "n1"]


async def test_injected_error_and_group_only_checks(
    emu: VkEmulator, bob: Person, vk: vk_api.VkApi
) -> None:
    emu.fail_next("messages.send", 10)
    assert (
        await api_error(vk, "messages.send", peer_id=bob.id, random_id=0, message="x")
    ).code == 10
    assert (await api_error(vk, "groups.create", title="Another")).code == 27
    assert emu.calls_to("messages.send")[0].error == (10, "Internal server error")


# keyboards


async def test_keyboards_from_vk_api_are_accepted_and_shown(bob: Person, vk: vk_api.VkApi) -> None:
    keyboard = VkKeyboard(inline=True)
    keyboard.add_callback_button("В корзину", VkKeyboardColor.POSITIVE, {"a": "cart:add:1"})
    keyboard.add_button("Каталог", payload={"a": "catalog"})
    keyboard.add_line()
    keyboard.add_openlink_button("Сайт", "https://example.org/")
    await call(
        vk,
        "messages.send",
        peer_id=bob.id,
        random_id=1,
        message="Товар",
        keyboard=keyboard.get_keyboard(),
    )
    assert bob.screen.buttons == [["В корзину", "Каталог"], ["Сайт"]]
    assert bob.screen.keyboard is not None and bob.screen.keyboard.inline

    menu = VkKeyboard(one_time=False)
    menu.add_button("Меню")
    await call(
        vk, "messages.send", peer_id=bob.id, random_id=2, message="ok", keyboard=menu.get_keyboard()
    )
    assert bob.screen.buttons == [["Меню"]]
    await call(vk, "messages.send", peer_id=bob.id, random_id=3, message="без клавиатуры")
    assert bob.screen.buttons == [["Меню"]]  # a standard keyboard stays until replaced
    await call(
        vk,
        "messages.send",
        peer_id=bob.id,
        random_id=4,
        message="убрать",
        keyboard=VkKeyboard.get_empty_keyboard(),
    )
    assert bob.screen.buttons == []


async def test_bad_keyboards_are_refused_with_911(bob: Person, vk: vk_api.VkApi) -> None:
    crowded = VkKeyboard(inline=True)
    for row in range(3):
        if row:
            crowded.add_line()
        for col in range(4):
            crowded.add_callback_button(f"b{row}{col}")
    huge = VkKeyboard()
    for row in range(9):
        if row:
            huge.add_line()
        for col in range(5):
            huge.add_button(f"b{row}{col}")
    long_label = VkKeyboard(inline=True)
    long_label.add_button("x" * 41)
    long_payload = VkKeyboard(inline=True)
    long_payload.add_callback_button("ok", payload={"a": "y" * 300})
    not_json = json.dumps(
        {
            "inline": True,
            "buttons": [[{"action": {"type": "text", "label": "a", "payload": "p:1"}}]],
        }
    )
    for bad in (
        crowded.get_keyboard(),
        huge.get_keyboard(),
        long_label.get_keyboard(),
        long_payload.get_keyboard(),
        not_json,
        "{not json",
    ):
        error = await api_error(
            vk, "messages.send", peer_id=bob.id, random_id=0, message="m", keyboard=bad
        )
        assert error.code == 911, bad
        assert error.error["error_msg"].startswith("Keyboard format is invalid")
    assert bob.messages == []


# edit, delete, users


async def test_edit_and_delete_change_what_the_person_sees(
    emu: VkEmulator, bob: Person, vk: vk_api.VkApi
) -> None:
    first = await call(vk, "messages.send", peer_id=bob.id, random_id=1, message="один")
    await call(vk, "messages.send", peer_id=bob.id, random_id=2, message="два")
    await call(vk, "messages.edit", peer_id=bob.id, conversation_message_id=2, message="два!")
    await call(vk, "messages.edit", peer_id=bob.id, message_id=first, message="один!")
    assert [m.text for m in bob.messages] == ["один!", "два!"]

    await call(vk, "messages.delete", message_ids=first)  # only for the community
    assert len(bob.messages) == 2
    answer = await call(vk, "messages.delete", peer_id=bob.id, cmids=2, delete_for_all=1)
    assert answer[0]["conversation_message_id"] == 2
    assert [m.text for m in bob.messages] == ["один!"]

    missing = await api_error(vk, "messages.edit", peer_id=bob.id, message_id=999, message="x")
    assert missing.code == 100
    await bob.send("мой текст", wait=False)
    own = await api_error(
        vk, "messages.edit", peer_id=bob.id, conversation_message_id=3, message="x"
    )
    assert own.code == 920
    assert emu.warnings == []


async def test_users_get_with_fields(bob: Person, vk: vk_api.VkApi) -> None:
    [user] = await call(vk, "users.get", user_ids=bob.id, fields="screen_name,sex")
    assert user["first_name"] == "Bob" and user["last_name"] == "Builder"
    assert user["screen_name"] == f"id{bob.id}"


# uploads


async def test_photo_and_document_uploads_become_attachments(
    emu: VkEmulator, bob: Person, vk: vk_api.VkApi
) -> None:
    upload = vk_api.VkUpload(vk)
    image = png_bytes()
    [photo] = await asyncio.to_thread(upload.photo_messages, io.BytesIO(image), bob.id)
    attachment = f"photo{photo['owner_id']}_{photo['id']}_{photo['access_key']}"
    await call(
        vk, "messages.send", peer_id=bob.id, random_id=1, message="Фото", attachment=attachment
    )
    [shown] = bob.screen.attachments
    assert shown.type == "photo" and shown.data == image
    assert str(shown) == attachment
    served = await asyncio.to_thread(requests.get, shown.url, timeout=5)
    assert served.content == image

    doc_file = io.BytesIO(b"sku;price\n1;100\n")
    doc_file.name = "prices.csv"
    saved = await asyncio.to_thread(upload.document_message, doc_file, "Прайс", None, bob.id)
    doc = saved["doc"]
    await call(
        vk,
        "messages.send",
        peer_id=bob.id,
        random_id=2,
        attachment=f"doc{doc['owner_id']}_{doc['id']}_{doc['access_key']}",
    )
    assert bob.screen.attachments[0].title == "Прайс"

    forged = await api_error(
        vk, "messages.send", peer_id=bob.id, random_id=3, attachment="photo-1_2_abc"
    )
    assert forged.code == 100
    not_image = vk_api.VkUpload(vk)
    with pytest.raises(vk_api.ApiError) as caught:
        await asyncio.to_thread(not_image.photo_messages, io.BytesIO(b"plain text"), bob.id)
    assert caught.value.code == 129
    assert emu.warnings == []


# Bots Long Poll


async def test_bot_long_poll_events_and_failures(
    emu: VkEmulator, group: Group, bob: Person, vk: vk_api.VkApi
) -> None:
    poll = await asyncio.to_thread(VkBotLongPoll, vk, group.id, 5)

    fetch = asyncio.create_task(asyncio.to_thread(poll.check))
    await bob.send("Начать", expect_reply=False)
    [event] = await fetch
    assert event.type == VkBotEventType.MESSAGE_NEW and event.from_user
    assert event.message["text"] == "Начать" and event.message["from_id"] == bob.id
    assert event.client_info["lang_id"] == 0 and event.client_info["inline_keyboard"]
    assert event.raw["v"] == "5.199" and event.raw["event_id"]

    keyboard = VkKeyboard(inline=True)
    keyboard.add_callback_button("Купить", payload={"a": "buy:1"})
    await call(
        vk,
        "messages.send",
        peer_id=bob.id,
        random_id=1,
        message="Товар",
        keyboard=keyboard.get_keyboard(),
    )
    fetch = asyncio.create_task(asyncio.to_thread(poll.check))
    await bob.press("Купить", expect_reply=False)
    [press] = await fetch
    assert press.type == VkBotEventType.MESSAGE_EVENT
    assert press.object["payload"] == {"a": "buy:1"}
    assert press.object["conversation_message_id"] == bob.screen.message.cmid
    await call(
        vk,
        "messages.sendMessageEventAnswer",
        event_id=press.object["event_id"],
        user_id=bob.id,
        peer_id=bob.id,
        event_data=json.dumps({"type": "show_snackbar", "text": "Добавлено"}),
    )
    assert bob.last_snackbar == "Добавлено"
    again = await api_error(
        vk,
        "messages.sendMessageEventAnswer",
        event_id=press.object["event_id"],
        user_id=bob.id,
        peer_id=bob.id,
    )
    assert again.code == 100

    servers = len(emu.calls_to("groups.getLongPollServer"))
    for code in (1, 2, 3):
        emu.longpoll_fail(group, code)
        assert await asyncio.to_thread(poll.check) == []
        fetch = asyncio.create_task(asyncio.to_thread(poll.check))
        await bob.send(f"после {code}", expect_reply=False)
        [event] = await fetch
        assert event.message["text"] == f"после {code}"
    # failed 1 keeps the key; 2 and 3 make the client ask for a new one
    assert len(emu.calls_to("groups.getLongPollServer")) == servers + 2
    assert emu.warnings == []


async def test_what_a_person_sends_reaches_the_bot_with_files(
    emu: VkEmulator, group: Group, bob: Person, vk: vk_api.VkApi
) -> None:
    poll = await asyncio.to_thread(VkBotLongPoll, vk, group.id, 5)
    image = png_bytes()
    await bob.send("Фото товара", photo=image, document=("items.csv", b"sku;1"), wait=False)
    [event] = await asyncio.to_thread(poll.check)
    photo, doc = event.message["attachments"]
    assert photo["type"] == "photo" and photo["photo"]["owner_id"] == bob.id
    url = photo["photo"]["sizes"][-1]["url"]
    assert (await asyncio.to_thread(requests.get, url, timeout=5)).content == image
    assert doc["doc"]["title"] == "items.csv" and doc["doc"]["ext"] == "csv"
    fetched = await asyncio.to_thread(requests.get, doc["doc"]["url"], timeout=5)
    assert fetched.content == b"sku;1"


# Callback API


class CallbackBot:
    """A bot endpoint that confirms, checks the secret and fails its first push."""

    def __init__(self, group: Group, vk: vk_api.VkApi, secret: str) -> None:
        self.group, self.vk, self.secret = group, vk, secret
        self.bodies: list[dict[str, Any]] = []
        self.fail_first = True
        self.seen: set[str] = set()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.bodies.append(body)
        if body["type"] == "confirmation":
            return web.Response(text=self.group.confirmation)
        if body.get("secret") != self.secret:
            return web.Response(status=403, text="bad secret")
        if self.fail_first:
            self.fail_first = False
            return web.Response(status=500, text="try again")
        if body["event_id"] not in self.seen and body["type"] == "message_new":
            self.seen.add(body["event_id"])
            message = body["object"]["message"]
            await call(
                self.vk,
                "messages.send",
                peer_id=message["peer_id"],
                random_id=0,
                message="Принято: " + message["text"],
            )
        return web.Response(text="ok")


async def test_callback_api_confirmation_secret_and_retry(
    emu: VkEmulator, group: Group, bob: Person, vk: vk_api.VkApi
) -> None:
    bot = CallbackBot(group, vk, secret="s3cret")
    app = web.Application()
    app.router.add_post("/vk", bot.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        wrong = Group(group.id, "x", "x", "t", confirmation="other")
        with pytest.raises(AssertionError, match="confirmation"):
            await emu.use_callback(wrong, f"http://{host}:{port}/vk", "s3cret")
        await emu.use_callback(group, f"http://{host}:{port}/vk", "s3cret")
        assert bot.bodies[-1] == {"type": "confirmation", "group_id": group.id}

        await bob.send("Заказ")
        assert bob.screen.text == "Принято: Заказ"
        attempts = [a for a in emu.callback_log(group) if a.type == "message_new"]
        assert [(a.attempt, a.status, a.body) for a in attempts] == [
            (1, 500, "try again"),
            (2, 200, "ok"),
        ]
        assert len({a.event_id for a in attempts}) == 1
        pushed = bot.bodies[-1]
        assert pushed["secret"] == "s3cret" and pushed["v"] == "5.199"
        assert pushed["group_id"] == group.id and pushed["object"]["message"]["text"] == "Заказ"
    finally:
        await runner.cleanup()


# the person driver on a tiny echo bot


class EchoBot:
    """Echoes text with buttons; answers the callback button with a snackbar and an edit."""

    def __init__(self, vk: vk_api.VkApi, group_id: int) -> None:
        self.vk, self.group_id = vk, group_id
        self.stopping = False

    async def run(self) -> None:
        poll = await asyncio.to_thread(VkBotLongPoll, self.vk, self.group_id, 5)
        while not self.stopping:
            try:
                events = await asyncio.to_thread(poll.check)
            except requests.RequestException:
                if self.stopping:
                    return
                raise
            for event in events:
                await self.handle(event)

    async def handle(self, event: Any) -> None:
        if event.type == VkBotEventType.MESSAGE_NEW:
            message = event.message
            keyboard = VkKeyboard(inline=True)
            keyboard.add_callback_button("Пинг", payload={"a": "ping"})
            keyboard.add_button("Ещё", payload={"a": "more"})
            payload = message.get("payload", "-")
            await call(
                self.vk,
                "messages.send",
                peer_id=message["peer_id"],
                random_id=vk_api.utils.get_random_id(),
                message=f"Эхо: {message['text']} ({payload})",
                keyboard=keyboard.get_keyboard(),
            )
        elif event.type == VkBotEventType.MESSAGE_EVENT:
            obj = event.object
            await call(
                self.vk,
                "messages.sendMessageEventAnswer",
                event_id=obj["event_id"],
                user_id=obj["user_id"],
                peer_id=obj["peer_id"],
                event_data=json.dumps({"type": "show_snackbar", "text": "Понг"}),
            )
            await call(
                self.vk,
                "messages.edit",
                peer_id=obj["peer_id"],
                conversation_message_id=obj["conversation_message_id"],
                message="Понг!",
            )


@pytest.fixture
async def echo(emu: VkEmulator, group: Group, vk: vk_api.VkApi) -> AsyncIterator[EchoBot]:
    bot = EchoBot(vk, group.id)
    task = asyncio.create_task(bot.run())
    await emu.wait_for_bot(group)
    yield bot
    bot.stopping = True
    emu.longpoll(group).close()
    await task


async def test_person_drives_an_echo_bot(emu: VkEmulator, bob: Person, echo: EchoBot) -> None:
    with pytest.raises(AssertionError, match="sent nothing"):
        _ = bob.screen
    await bob.send("Начать")
    assert bob.screen.text == "Эхо: Начать (-)"
    assert bob.screen.buttons == [["Пинг", "Ещё"]]

    await bob.press("Ещё")
    assert bob.messages[-2].text == "Ещё" and not bob.messages[-2].out
    assert bob.screen.text == 'Эхо: Ещё ({"a":"more"})'

    await bob.press("Пинг")
    assert bob.last_snackbar == "Понг"
    assert bob.screen.text == "Понг!" and bob.screen.buttons == []  # edited, keyboard dropped

    with pytest.raises(AssertionError, match="Пинг"):
        await bob.press("Нет такой")

    async def notify() -> None:  # the bot writing on its own, e.g. an order update
        await call(echo.vk, "messages.send", peer_id=bob.id, random_id=0, message="Оплачен")

    task = asyncio.create_task(notify())
    await bob.wait_until(lambda: bob.screen.text == "Оплачен")
    await task
    texts = [m.text for m in bob.messages]
    assert texts == ["Начать", "Эхо: Начать (-)", "Ещё", "Понг!", "Оплачен"]
    assert emu.warnings == []


async def test_settling_fails_clearly_when_nobody_listens() -> None:
    emulator = VkEmulator(settle_timeout=0.2)
    await emulator.start()
    try:
        alice = emulator.user(emulator.create_group(), first_name="Alice")
        with pytest.raises(AssertionError, match="never took the message_new"):
            await alice.send("Алло")
    finally:
        await emulator.stop()
