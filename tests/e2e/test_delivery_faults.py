"""Telegram having a bad moment: the shopper still gets every screen once, on SQLite and
PostgreSQL. Faults are injected into the emulator; the shop runs as in production."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot import patience
from bot.app import start
from handlers.screens import Screen, screen_to_payload
from shop import outbox
from shop.models import OutboxMessage
from shop.models.types import utcnow
from tests.e2e.conftest import eventually

GREETING = "Здравствуйте, Алиса!"
HELP = "Как купить"


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replies give up after two tries (0.25 s), so a test sees what comes after."""
    monkeypatch.setattr(patience, "REPLY", patience.Patience(budget=0.3, longest_flood_wait=0))


def texts(person, start: str) -> list[str]:
    return [m.text for m in person.bot_messages if (m.text or "").startswith(start)]


async def handed_over(shop) -> list[OutboxMessage]:
    async with shop.runtime.sessions() as session:
        return list((await session.execute(select(OutboxMessage))).scalars())


@pytest.mark.parametrize(
    "arm",
    [
        pytest.param(lambda emu: emu.fail_next("sendMessage"), id="500"),
        pytest.param(lambda emu: emu.fail_next("sendMessage", 502, html=True), id="502-html"),
        pytest.param(lambda emu: emu.drop_next("sendMessage", times=2), id="two-drops"),
    ],
)
async def test_a_reply_rides_out_a_bot_api_fault(shop, arm):
    alice = shop.user()
    arm(shop.emu)
    await alice.send("/start")
    assert len(texts(alice, GREETING)) == 1
    assert alice.screen.text.startswith(GREETING)
    assert shop.emu.calls("sendMessage", ok=False)[0].fault
    assert await handed_over(shop) == []  # retried in place, not left to the outbox


async def test_an_edit_that_fails_once_still_edits_in_place(shop):
    alice = shop.user()
    await alice.send("/start")
    shop.emu.fail_next("editMessageText")
    await alice.press("Помощь")
    assert [m.text.split("\n")[0] for m in alice.bot_messages] == ["Как купить:"]
    assert [c.fault for c in shop.emu.calls("editMessageText")] == [True, False]


async def test_an_edit_that_keeps_failing_sends_the_screen_anew(shop, impatient):
    alice = shop.user()
    await alice.send("/start")
    shop.emu.fail_next("editMessageText", times=2)
    await alice.press("Помощь")
    assert alice.bot_messages[0].text.startswith(GREETING)
    assert alice.screen.text.startswith(HELP)
    assert len(alice.bot_messages) == 2


async def test_a_reply_that_cannot_go_out_now_comes_through_the_outbox(shop, impatient):
    alice = shop.user()
    await alice.send("/start")
    shop.emu.fail_next("sendMessage", times=2)  # both tries of the reply
    await alice.send("/help", expect_reply=False)
    await alice.wait_for(HELP)
    assert len(texts(alice, HELP)) == 1
    [handed] = await handed_over(shop)
    assert (handed.kind, handed.recipient) == ("screen", f"telegram:{alice.id}")

    async def sent() -> bool:
        return [m.status for m in await handed_over(shop)] == ["sent"]

    await eventually(sent)


async def test_a_short_429_on_a_reply_is_waited_out(shop):
    alice = shop.user()
    shop.emu.fail_next("sendMessage", retry_after=1)
    await alice.send("/start")
    assert len(texts(alice, GREETING)) == 1
    assert await handed_over(shop) == []


async def test_a_long_429_on_a_reply_leaves_it_to_the_outbox_for_later(shop):
    alice = shop.user()
    shop.emu.fail_next("sendMessage", retry_after=30)
    await alice.send("/start", expect_reply=False)
    await eventually(lambda: handed_over(shop))
    [later] = await handed_over(shop)
    assert (later.kind, later.status, alice.bot_messages) == ("screen", "pending", [])
    assert later.next_attempt_at > utcnow() + timedelta(seconds=25)
    async with shop.runtime.sessions() as session, session.begin():  # the half minute passes
        await session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    await alice.wait_for(GREETING)
    assert len(texts(alice, GREETING)) == 1


async def test_a_429_for_one_chat_does_not_hold_up_another(shop):
    alice, bob = shop.user("Алиса"), shop.user("Боб")
    shop.emu.fail_next("sendMessage", retry_after=30, chat_id=alice.id)
    async with shop.runtime.sessions() as session, session.begin():
        for person in (alice, bob):  # Alice's first
            payload = {"screen": screen_to_payload(Screen("Новости магазина"))}
            outbox.enqueue(session, "screen", payload, recipient=f"telegram:{person.id}")

    await bob.wait_for("Новости магазина", within=5)
    assert texts(alice, "Новости") == []
    async with shop.runtime.sessions() as session:
        held = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalar()
    assert (held.status, held.attempts, held.last_error) == ("pending", 0, "rate limited")


async def test_an_unrenderable_message_is_set_aside_and_staff_are_told(telegram, shop_settings):
    token = shop_settings().telegram_bot_token
    moderators = telegram.group(token, "Модераторы")
    runtime = await start(shop_settings(moderator_chat=f"telegram:{moderators.id}"))
    try:
        alice = telegram.user(token, first_name="Алиса")
        async with runtime.sessions() as session, session.begin():
            good = {"screen": screen_to_payload(Screen("Первая новость"))}
            outbox.enqueue(session, "screen", good, recipient=f"telegram:{alice.id}")
            # an order_status without its order: this version cannot render it
            bad = outbox.enqueue(session, "order_status", {}, recipient=f"telegram:{alice.id}")
            bad.attempts = outbox.MAX_ATTEMPTS - 1  # its earlier tries failed the same way
            later = {"screen": screen_to_payload(Screen("Вторая новость"))}
            outbox.enqueue(session, "screen", later, recipient=f"telegram:{alice.id}")

        alert = await moderators.wait_for("не доставлено", within=10)
        assert f"Сообщение №{bad.id} (order_status)" in alert.text
        assert [m.text for m in alice.bot_messages] == ["Первая новость", "Вторая новость"]
        async with runtime.sessions() as session:
            stored = await session.get(OutboxMessage, bad.id)
        assert stored is not None and stored.status == outbox.DEAD
    finally:
        await runtime.stop()


async def test_a_message_failing_again_and_again_ends_dead_with_one_alert(telegram, shop_settings):
    token = shop_settings().telegram_bot_token
    moderators = telegram.group(token, "Модераторы")
    runtime = await start(shop_settings(moderator_chat=f"telegram:{moderators.id}"))
    try:
        alice = telegram.user(token, first_name="Алиса")
        telegram.fail_next("sendMessage", times=100, chat_id=alice.id)  # Telegram fails her
        async with runtime.sessions() as session, session.begin():
            payload = {"screen": screen_to_payload(Screen("Новость"))}
            message = outbox.enqueue(session, "screen", payload, recipient=f"telegram:{alice.id}")
            message.attempts = outbox.MAX_ATTEMPTS - 2  # the last two tries are seen here

        async def dead() -> bool:
            async with runtime.sessions() as session, session.begin():
                await session.execute(  # time passes: the back-off is over
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message.id, OutboxMessage.status == "pending")
                    .values(next_attempt_at=OutboxMessage.created_at)
                )
                stored = await session.get(OutboxMessage, message.id)
                return stored is not None and stored.status == outbox.DEAD

        await eventually(dead, within=30)
        await moderators.wait_for("не доставлено")
        assert len(moderators.messages) == 1
        assert alice.bot_messages == []
    finally:
        await runtime.stop()
