"""An event that keeps failing is tried a few times, then parked: the person is told once,
staff are alerted, and the person's next messages are answered as usual."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import bot.inbox
import shop.inbox
from handlers.conversation import Conversation
from shop.models import InboxEvent, InboxStatus, OutboxMessage
from tests.e2e.conftest import eventually
from tests.e2e.test_vk_storefront import running_shop, vk  # noqa: F401  (fixture)

APOLOGY = "Что-то пошло не так"
TRIGGER = "взрыв"


@pytest.fixture
def failing_word(monkeypatch: pytest.MonkeyPatch) -> None:
    """A search for TRIGGER fails as a bug would; retries come quickly."""
    route = Conversation._route

    async def broken(self, ctx):  # type: ignore[no-untyped-def]
        if ctx.event.text == TRIGGER:
            raise RuntimeError("a bug in the conversation")
        return await route(self, ctx)

    monkeypatch.setattr(Conversation, "_route", broken)
    monkeypatch.setattr(shop.inbox, "RETRY_DELAYS", (0.05, 0.05))
    monkeypatch.setattr(bot.inbox, "LEFT_BEHIND", timedelta(0))


async def _parked(sessions) -> tuple[list[str], list[str]]:
    async with sessions() as session:
        statuses = list((await session.execute(select(InboxEvent.status))).scalars())
        alerts = (await session.execute(select(OutboxMessage.payload))).scalars()
        problems = [p.get("problem") for p in alerts if isinstance(p, dict)]
    return statuses, problems


def _apologies(texts: list[str]) -> int:
    return len([text for text in texts if text.startswith(APOLOGY)])


async def test_telegram_event_parked_after_tries_then_life_goes_on(shop, failing_word):
    alice = shop.user()
    await alice.send("/start")
    await alice.send(TRIGGER, expect_reply=False)
    await eventually(lambda: _apologies([m.text or "" for m in alice.bot_messages]) == 1)
    statuses, problems = await _parked(shop.runtime.sessions)
    assert statuses.count(InboxStatus.PARKED) == 1
    assert "event_parked" in problems
    await alice.send("/help")
    assert alice.screen.text.startswith("Как купить")
    assert _apologies([m.text or "" for m in alice.bot_messages]) == 1


async def test_vk_event_parked_after_tries_then_life_goes_on(
    vk,  # noqa: F811
    database_url: str,
    failing_word,
) -> None:
    async with running_shop(vk, database_url) as vk_shop:
        alice = vk_shop.user()
        await alice.send("Начать")
        await alice.send(TRIGGER, wait=False)
        await eventually(lambda: _apologies([m.text for m in alice.bot_messages]) == 1)
        statuses, problems = await _parked(vk_shop.sessions)
        assert statuses.count(InboxStatus.PARKED) == 1
        assert "event_parked" in problems
        await alice.send("/help")
        assert alice.screen.text.startswith("Как купить")
