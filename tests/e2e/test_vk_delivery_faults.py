"""VK having a bad moment: the shopper still gets every screen, once, on SQLite and
PostgreSQL. Faults are injected into the VK emulator; the shop runs as in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot import patience
from bot.app import Runtime, start
from bot.config import Settings
from handlers.screens import Screen, screen_to_payload
from shop import outbox
from shop.models import OutboxMessage
from tests.e2e.conftest import eventually
from tests.emulators.vk import Group, Person, VkEmulator

GREETING = "Здравствуйте, Алиса!"


@dataclass
class VkShop:
    emu: VkEmulator
    group: Group
    runtime: Runtime

    def user(self) -> Person:
        return self.emu.user(self.group, first_name="Алиса")

    async def outbox(self) -> list[OutboxMessage]:
        async with self.runtime.sessions() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            return list((await session.execute(query)).scalars())


@pytest.fixture
async def shop(database_url: str) -> AsyncIterator[VkShop]:
    emu = VkEmulator(settle_timeout=10.0)
    await emu.start()
    group = emu.create_group("Демо-магазин", "demo_shop")
    settings = Settings(
        database_url=database_url,
        vk_group_token=group.token,
        vk_group_id=group.id,
        vk_api_url=emu.api_url,
        http_port=0,
        _env_file=None,  # type: ignore[call-arg]
    )
    runtime = await start(settings)
    try:
        await emu.wait_for_bot(group)
        yield VkShop(emu, group, runtime)
    finally:
        await runtime.stop()
        await emu.stop()
    assert emu.warnings == []


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replies give up after two tries (0.25 s), so a test sees what comes after."""
    monkeypatch.setattr(patience, "REPLY", patience.Patience(budget=0.3, longest_flood_wait=0))


def texts(person: Person, start: str) -> list[str]:
    return [m.text for m in person.bot_messages if m.text.startswith(start)]


@pytest.mark.parametrize(
    "arm",
    [
        pytest.param(lambda emu: emu.fail_http("messages.send", 500), id="http-500"),
        pytest.param(lambda emu: emu.fail_http("messages.send", 502), id="502-page"),
        pytest.param(lambda emu: emu.fail_next("messages.send", 10), id="internal-error"),
        pytest.param(lambda emu: emu.drop_next("messages.send", times=2), id="two-drops"),
        pytest.param(lambda emu: emu.lose_answers("messages.send"), id="answer-lost"),
    ],
)
async def test_a_reply_rides_out_a_vk_fault(shop: VkShop, arm) -> None:
    alice = shop.user()
    arm(shop.emu)
    await alice.send("Начать")
    assert texts(alice, GREETING) == [alice.screen.text]  # once, even when VK did it before
    assert not shop.emu.calls_to("messages.send")[0].ok
    assert await shop.outbox() == []  # retried in place, not left to the outbox


async def test_an_edit_that_keeps_failing_sends_the_screen_anew(
    shop: VkShop, impatient: None
) -> None:
    alice = shop.user()
    await alice.send("Начать")
    shop.emu.fail_http("messages.edit", 500, times=2)
    await alice.press("❓ Помощь")
    assert alice.bot_messages[0].text.startswith(GREETING)
    assert alice.screen.text.startswith("Как купить")
    assert len(alice.bot_messages) == 2


async def test_a_reply_that_cannot_go_out_now_comes_through_the_outbox(
    shop: VkShop, impatient: None
) -> None:
    alice = shop.user()
    shop.emu.fail_http("messages.send", 502, times=2)  # both tries of the reply
    await alice.send("Начать", expect_reply=False)
    await alice.wait_until(lambda: bool(texts(alice, GREETING)))
    [handed] = await shop.outbox()
    assert (handed.kind, handed.recipient) == ("screen", f"vk:{alice.id}")
    tries = [call.params["random_id"] for call in shop.emu.calls_to("messages.send")]
    assert len(tries) == 3 and len(set(tries)) == 1  # the outbox send is the same message
    assert len(texts(alice, GREETING)) == 1


async def test_an_outbox_message_whose_answers_were_lost_is_shown_once(shop: VkShop) -> None:
    alice = shop.user()
    await alice.send("Начать")
    shop.emu.lose_answers("messages.send", times=3)  # every call of the first outbox try
    async with shop.runtime.sessions() as session, session.begin():
        payload = {"screen": screen_to_payload(Screen("Заказ №1: оплачен."))}
        message = outbox.enqueue(session, "screen", payload, recipient=f"vk:{alice.id}")

    async def sent() -> bool:
        async with shop.runtime.sessions() as session:
            stored = await session.get(OutboxMessage, message.id)
        return stored is not None and stored.status == "sent"

    await eventually(sent, within=15)
    assert [m.attempts for m in await shop.outbox()] == [2]  # the first try failed for the bot
    assert texts(alice, "Заказ №1") == ["Заказ №1: оплачен."]
