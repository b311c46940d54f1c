"""The whole process (bot.app.start) against the Telegram emulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from bot.app import Runtime, start
from bot.config import Settings
from tests.emulators.telegram import Person, TelegramEmulator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Shop:
    """A running shop and the emulated Telegram its shoppers use."""

    emu: TelegramEmulator
    token: str
    runtime: Runtime
    settings: Settings

    def user(
        self, first_name: str = "Алиса", language_code: str = "ru", **kwargs: object
    ) -> Person:
        return self.emu.user(
            self.token, first_name=first_name, language_code=language_code, **kwargs
        )  # type: ignore[arg-type]


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramEmulator]:
    emu = TelegramEmulator(callback_timeout=15.0)
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
def shop_settings(database_url: str, telegram: TelegramEmulator) -> Callable[..., Settings]:
    token = telegram.create_bot(username="demo_shop_bot")

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": database_url,
            "telegram_bot_token": token,
            "telegram_api_server": telegram.api_server_url,
            "http_port": 0,
            "_env_file": None,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def shop(telegram: TelegramEmulator, shop_settings) -> AsyncIterator[Shop]:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = shop_settings()
    runtime = await start(settings)
    yield Shop(telegram, settings.telegram_bot_token, runtime, settings)
    await runtime.stop()
    assert telegram.spec_warnings == []


def seen(text: str | None) -> str:
    """Screen text with non-breaking spaces read as spaces, as a person reads it."""
    return (text or "").replace("\u00a0", " ")


async def eventually(check: Callable[[], object], within: float = 10.0) -> None:
    """Wait until ``check()`` (sync or async) is true, for work the shop does on its own."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {within} s: {check}")
        await asyncio.sleep(0.05)


async def check_out_tote_bag(person: Person) -> None:
    """Find the tote bag, put it in the cart and start checking out (the name is asked)."""
    await person.send("шопер")
    await person.press("Шопер")
    await person.press("В корзину")
    await person.press("Перейти в корзину")
    await person.press("Оформить заказ")


async def order_tote_bag(person: Person, delivery: str = "Самовывоз") -> None:
    """The shortest journey to a placed order: one tote bag, the saved name, a typed phone."""
    await check_out_tote_bag(person)
    await person.press("Использовать")
    await person.send("+79001234567")
    await person.press(delivery)
    if delivery != "Самовывоз":
        await person.send("Москва, Тверская, 1")
    await person.press("Без комментария")
    await person.press("Без чека на почту")
    await person.press("Подтвердить заказ")
