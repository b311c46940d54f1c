"""`python -m tests.emulators` for a person: it keeps serving without a terminal, keeps its
token and ids between runs, names buttons loosely and shows a shopper's whole screen."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.emulators.console import (
    Bubble,
    Console,
    Invoice,
    Screen,
    format_screen,
    money,
    payment_line,
)
from tests.emulators.labels import LabelError, match_label, normalize
from tests.emulators.telegram import TelegramEmulator
from tests.emulators.vk import VkEmulator
from tests.emulators.yookassa import YooKassaEmulator

ROOT = Path(__file__).resolve().parent.parent

# -- the process -------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class Running:
    """`python -m tests.emulators` with stdin not a terminal, read up to its serving line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.emulators", *args],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if "serving until" in line:
                break
        else:
            raise AssertionError("it ended before serving:\n" + "\n".join(self.lines))

    def setting(self, name: str) -> str:
        for line in self.lines:
            if line.startswith(f"{name}="):
                return line.split("=", 1)[1]
        raise AssertionError(f"no {name} in:\n" + "\n".join(self.lines))

    def settings(self) -> dict[str, str]:
        return dict(line.split("=", 1) for line in self.lines if re.match(r"^[A-Z_]+=", line))

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        rest, _ = self.process.communicate(timeout=10)
        return rest


def get_me(run: Running) -> dict[str, Any]:
    url = f"{run.setting('TELEGRAM_API_SERVER')}/bot{run.setting('TELEGRAM_BOT_TOKEN')}/getMe"
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


def test_serves_without_a_terminal_until_sigterm_and_keeps_its_identity(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    tg, vk, yk = free_ports(3)
    ports = ["--tg-port", str(tg), "--vk-port", str(vk), "--yk-port", str(yk)]
    first = Running("--state", str(state), *ports)
    try:
        # stdin is at its end already: it must not take that for "quit", but say it serves on
        assert any(line.startswith("# No console") for line in first.lines), first.lines
        assert first.process.poll() is None
        me = get_me(first)
        assert me["ok"] and me["result"]["username"] == "demo_shop_bot"
    finally:
        rest = first.stop()
    assert first.process.returncode == 0, rest
    assert "Traceback" not in rest
    settings = first.settings()
    assert settings["TELEGRAM_API_SERVER"] == f"http://127.0.0.1:{tg}"
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert saved["telegram"]["token"] == settings["TELEGRAM_BOT_TOKEN"]

    second = Running("--state", str(state))  # the ports come from the state too
    try:
        assert get_me(second)["result"]["id"] == me["result"]["id"]
    finally:
        second.stop()
    assert second.settings() == settings  # same token, ids, keys and URLs

    fresh = Running("--state", str(state), "--fresh", *ports)
    fresh.stop()
    assert fresh.setting("TELEGRAM_BOT_TOKEN") != settings["TELEGRAM_BOT_TOKEN"]
    assert fresh.setting("YOOKASSA_SECRET_KEY") != settings["YOOKASSA_SECRET_KEY"]


def test_a_script_of_commands_and_the_same_people_next_run(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    tg, vk, yk = (str(port) for port in free_ports(3))
    options = ["--state", str(state), "--tg-port", tg, "--vk-port", vk, "--yk-port", yk]
    options.append("--console")

    def run(commands: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "tests.emulators", *options],
            cwd=ROOT,
            input=commands,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout

    first = run("screen tg alice\nscreen vk bob\nquit\n")
    assert "=== alice on Telegram: the bot has not written yet ===" in first
    second = run("people\nquit\n")
    assert "# Telegram shoppers: alice=5000001" in second
    assert "# VK shoppers: bob=700000001" in second
    assert "Telegram  alice        user id 5000001" in second


def test_help_explains_the_commands() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "tests.emulators", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    for word in ("tgpress", "vkpress", "screen", "pay", "decline", "--fresh", "--port"):
        assert word in shown


# -- loose labels ------------------------------------------------------------------------------

TELEGRAM_MENU = ["🛍 Каталог", "🔎 Поиск", "🛒 Корзина", "📦 Мои заказы", "❓ Помощь"]
VK_PRODUCTS = [
    "Футболка «Байкал» — от 1 490 ₽",
    "Футболка оверсайз «Север» — от 1 990 ₽",
    "Футболка детская «Ёжик» — от 890 ₽",
    "« Назад",
]


@pytest.mark.parametrize(
    ("typed", "labels", "pressed"),
    [
        ("корз", TELEGRAM_MENU, "🛒 Корзина"),
        ("КОРЗИНА", TELEGRAM_MENU, "🛒 Корзина"),
        ("моизаказы", TELEGRAM_MENU, "📦 Мои заказы"),
        ("мои  заказы", TELEGRAM_MENU, "📦 Мои заказы"),
        ("🛒 Корзина", TELEGRAM_MENU, "🛒 Корзина"),
        ("ежик", VK_PRODUCTS, "Футболка детская «Ёжик» — от 890 ₽"),
        ("байкал", VK_PRODUCTS, "Футболка «Байкал» — от 1 490 ₽"),
        ("назад", VK_PRODUCTS, "« Назад"),
        # an exact label wins over a longer one containing it, a prefix over a middle
        ("Назад", ["Назад", "Назад в каталог"], "Назад"),
        ("катал", ["🛍 Каталог", "« Назад в каталог"], "🛍 Каталог"),
        ("✅ Подтвердить заказ", ["✅ Подтвердить заказ", "✖️ Отмена"], "✅ Подтвердить заказ"),
    ],
)
def test_a_part_of_a_label_names_the_button(typed: str, labels: list[str], pressed: str) -> None:
    assert match_label(typed, labels) == pressed


def test_an_ambiguous_part_lists_the_candidates() -> None:
    with pytest.raises(LabelError) as raised:
        match_label("футболка", VK_PRODUCTS)
    assert raised.value.candidates == VK_PRODUCTS[:3]
    assert "several" in str(raised.value) and "«Север»" in str(raised.value)


def test_no_match_lists_every_button() -> None:
    with pytest.raises(LabelError) as raised:
        match_label("оформ", TELEGRAM_MENU)
    assert raised.value.candidates == TELEGRAM_MENU
    assert "[🛒 Корзина]" in str(raised.value)


def test_normalize_drops_spaces_case_and_emoji() -> None:
    assert normalize("🛒 Корзина (1)") == "корзина(1)"
    assert normalize("✖️ Отмена") == "отмена"
    assert normalize("👨‍👩‍👧 Семья Ёлкиных") == "семьяелкиных"


# -- the screen --------------------------------------------------------------------------------


def test_a_screen_shows_every_new_message_with_buttons_toasts_and_keyboard() -> None:
    screen = Screen(
        "tg",
        "alice",
        [
            Bubble("Каталог. Выберите раздел:", [["Одежда", "Обувь"], ["🏠 Меню"]], edited=True),
            Bubble("Футболка", attachments=["photo"]),
            Bubble(
                "",
                [["Оплатить 1 490 ₽"]],
                invoice=Invoice("Заказ №7", "Футболка × 1", Decimal("1490")),
            ),
        ],
        keyboard=[["📱 Отправить телефон"]],
        toasts=["Добавлено в корзину: 1 шт."],
    )
    assert format_screen(screen).splitlines() == [
        "=== alice on Telegram: 3 new messages ===",
        "--- 1/3 (edited)",
        "Каталог. Выберите раздел:",
        "  [Одежда] [Обувь]",
        "  [🏠 Меню]",
        "--- 2/3",
        "<photo>",
        "Футболка",
        "--- 3/3",
        "INVOICE: Заказ №7 — 1 490 ₽",
        "  Футболка × 1",
        "  [Оплатить 1 490 ₽]",
        "(toast) Добавлено в корзину: 1 шт.",
        "keyboard:",
        "  [📱 Отправить телефон]",
    ]


def test_screen_headers() -> None:
    assert format_screen(Screen("vk", "bob", [], silent=True)).startswith(
        "=== bob on VK: the bot has not written yet ==="
    )
    assert "no new messages" in format_screen(Screen("vk", "bob", []))
    again = format_screen(Screen("vk", "bob", [Bubble("Меню")], repeated=True))
    assert again.splitlines() == ["=== bob on VK: nothing new; the last message again ===", "Меню"]


def test_money_and_payment_lines_are_readable() -> None:
    assert money(Decimal("1490.00")) == "1 490 ₽"
    assert money("99.9") == "99,90 ₽"
    paid = {
        "id": "2f1c",
        "status": "succeeded",
        "amount": {"value": "1490.00", "currency": "RUB"},
        "metadata": {"order_id": "12", "attempt_id": "3"},
    }
    assert payment_line(paid) == "paid: 1 490 ₽, order №12 (payment 2f1c)"
    declined = {
        **paid,
        "status": "canceled",
        "cancellation_details": {"party": "payment_network", "reason": "insufficient_funds"},
    }
    assert payment_line(declined).startswith("declined (insufficient_funds): 1 490 ₽, order №12")


# -- the console on the emulators (the bot's side played through their APIs) -------------------


@pytest.fixture
async def console() -> AsyncIterator[Console]:
    telegram, vk, yookassa = TelegramEmulator(), VkEmulator(), YooKassaEmulator()
    await telegram.start()
    await vk.start()
    await yookassa.start()
    token = telegram.create_bot(username="demo_shop_bot")
    group = vk.create_group(name="Демо")
    yield Console(telegram, token, vk, group, yookassa)
    await yookassa.stop()
    await vk.stop()
    await telegram.stop()


async def bot_api(console: Console, method: str, **params: Any) -> Any:
    url = f"{console.telegram.api_server_url}/bot{console.token}/{method}"
    async with aiohttp.ClientSession() as http, http.post(url, json=params) as answer:
        body = await answer.json()
    assert body["ok"], body
    return body["result"]


async def vk_api(console: Console, method: str, **params: Any) -> Any:
    params = {**params, "access_token": console.group.token, "v": "5.199"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{console.vk.api_url}/{method}", data=params) as answer,
    ):
        body = await answer.json()
    assert "response" in body, body
    return body["response"]


class Pressed:
    """Stands in for a driver's press, recording what the console resolved."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.messages: list[Any] = []

    async def __call__(self, label: str, *, message: Any = None) -> None:
        self.labels.append(label)
        self.messages.append(message)


async def test_telegram_screen_shows_all_new_messages_then_presses_loosely(
    console: Console,
) -> None:
    alice = console.shopper("tg", "alice")
    menu = {"inline_keyboard": [[{"text": "🛍 Каталог", "callback_data": "c"}]]}
    menu["inline_keyboard"].append([{"text": "🛒 Корзина", "callback_data": "b"}])
    await bot_api(console, "sendMessage", chat_id=alice.person.id, text="Привет!")
    menu_message = await bot_api(
        console, "sendMessage", chat_id=alice.person.id, text="Меню", reply_markup=menu
    )
    await bot_api(
        console,
        "sendInvoice",
        chat_id=alice.person.id,
        title="Заказ №5",
        description="Футболка × 1",
        payload="order:5",
        provider_token="381764678:TEST:1",
        currency="RUB",
        prices=[{"label": "Футболка", "amount": 149000}],
    )
    shown = await console.execute(["screen", "tg", "alice"])
    assert shown.splitlines()[0] == "=== alice on Telegram: 3 new messages ==="
    assert "Привет!" in shown and "  [🛍 Каталог]\n  [🛒 Корзина]" in shown
    assert "INVOICE: Заказ №5 — 1 490 ₽\n  Футболка × 1\n  [Pay 1490.00 RUB]" in shown
    assert "nothing new" in await console.execute(["screen", "tg", "alice"])

    alice.person.press = pressed = Pressed()
    await console.execute(["tgpress", "alice", "корз"])  # on the menu above the invoice
    assert pressed.labels == ["🛒 Корзина"]
    assert pressed.messages == [menu_message["message_id"]]
    assert "several buttons: [🛍 Каталог], [🛒 Корзина]" in await console.execute(
        ["tgpress", "alice", "а"]
    )


async def test_vk_screen_and_loose_press_use_the_same_matching(console: Console) -> None:
    bob = console.shopper("vk", "bob")
    keyboard = {
        "one_time": False,
        "buttons": [
            [{"action": {"type": "text", "label": "🛍 Каталог"}, "color": "primary"}],
            [{"action": {"type": "text", "label": "🛒 Корзина"}, "color": "secondary"}],
        ],
    }
    for number, text in enumerate(["Здравствуйте!", "Выберите раздел"], 1):
        await vk_api(
            console,
            "messages.send",
            peer_id=bob.person.id,
            random_id=number,
            message=text,
            keyboard=json.dumps(keyboard, ensure_ascii=False),
        )
    shown = await console.execute(["screen", "vk", "bob"])
    assert shown.splitlines()[:5] == [
        "=== bob on VK: 2 new messages ===",
        "--- 1/2",
        "Здравствуйте!",
        "--- 2/2",
        "Выберите раздел",
    ]
    assert shown.endswith("keyboard:\n  [🛍 Каталог]\n  [🛒 Корзина]")

    bob.person.press = pressed = Pressed()
    await console.execute(["vkpress", "bob", "корз"])
    assert pressed.labels == ["🛒 Корзина"]
    assert "no button matches 'оплат'" in await console.execute(["vkpress", "bob", "оплат"])


async def test_people_keep_their_ids(console: Console) -> None:
    console.ids["tg"]["alice"] = 5_000_042
    assert console.shopper("tg", "alice").person.id == 5_000_042
    assert console.shopper("tg", "carol").person.id == 5_000_043
    assert "carol" in await console.execute(["people"])
    console.ids["tg"]["dave"] = 5_000_100  # remembered from the last run
    console.register_known()  # so the bot can write to him before he writes again
    await bot_api(console, "sendMessage", chat_id=5_000_100, text="Ваш заказ оплачен")
    assert "Ваш заказ оплачен" in await console.execute(["screen", "tg", "dave"])
