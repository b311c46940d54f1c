"""The console (web-chat) front-end drives the same conversation over JSON: a short journey
from /start to the cart, pressing the buttons the shop shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.console.frontend import ConsoleFrontend
from bot.delivery import OutboxDelivery
from bot.pacing import Pacer
from handlers.conversation import Conversation
from shop import outbox
from shop.db import create_engine, create_session_factory
from shop.demo import load_demo_catalog
from tests.e2e.conftest import free_port, seen


class Visitor:
    """A person in the web chat: posts what they type or press, keeps the screens shown."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, person: int) -> None:
        self.http, self.url = http, f"{base_url}/console/{person}"
        self.screens: list[dict[str, Any]] = []
        self.toast: str | None = None

    async def _post(self, body: dict[str, str]) -> None:
        async with self.http.post(self.url, json=body) as response:
            assert response.status == 200, await response.text()
            shown = await response.json()
        self.toast = shown["toast"]
        for screen in shown["screens"]:
            if screen["replace"] and self.screens:
                self.screens[-1] = screen
            else:
                self.screens.append(screen)

    async def send(self, text: str) -> None:
        await self._post({"text": text, "name": "Алиса", "language": "ru"})

    async def press(self, label: str) -> None:
        screen = next(s for s in reversed(self.screens) if s.get("buttons"))
        found = [b for row in screen["buttons"] for b in row if label in b["text"]]
        assert len(found) == 1, [b["text"] for row in screen["buttons"] for b in row]
        await self._post({"action": found[0]["action"]})

    @property
    def text(self) -> str:
        return seen(self.screens[-1]["text"])


@pytest.fixture
async def console(database_url: str) -> AsyncIterator[tuple[ConsoleFrontend, str]]:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await load_demo_catalog(session)
    frontend = ConsoleFrontend(Conversation(sessions), sessions)
    app = web.Application()
    frontend.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await frontend.start()
    try:
        yield frontend, f"http://127.0.0.1:{port}"
    finally:
        await frontend.stop()
        await runner.cleanup()
        await engine.dispose()


async def test_from_start_to_the_cart(console):
    _, base_url = console
    async with aiohttp.ClientSession() as http:
        alice = Visitor(http, base_url, 42)
        await alice.send("/start")
        assert alice.text.startswith("Здравствуйте, Алиса!")
        await alice.press("Каталог")
        assert alice.text == "Каталог. Выберите раздел:"
        assert len(alice.screens) == 1  # navigation replaces the screen
        await alice.press("Одежда")
        await alice.press("Футболки")
        await alice.press("Байкал")
        assert alice.screens[-1]["photo"]["id"] > 0
        assert "Цена: 1 490 ₽" in alice.text
        await alice.press("В корзину")
        assert alice.toast == "Добавлено в корзину: 1 шт."
        await alice.press("Перейти в корзину (1)")
        assert "Итого: 1 490 ₽" in alice.text
        assert "✅ Оформить заказ" in [
            b["text"] for row in alice.screens[-1]["buttons"] for b in row
        ]


async def test_a_message_for_later_waits_for_the_next_look(console, database_url):
    frontend, base_url = console
    sessions = create_session_factory(create_engine(database_url))
    async with sessions() as session, session.begin():
        payload = {"screen": {"text": "Ваш заказ отправлен"}}
        outbox.enqueue(session, "screen", payload, recipient="console:7")
    delivery = OutboxDelivery(sessions, {frontend.channel: frontend}, pacer=Pacer(chats=False))
    assert await delivery.run_once() == 1
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base_url}/console/7") as response:
            shown = await response.json()
        assert [s["text"] for s in shown["screens"]] == ["Ваш заказ отправлен"]
        async with http.post(f"{base_url}/console/7", json={"text": 5}) as response:
            assert response.status == 400
