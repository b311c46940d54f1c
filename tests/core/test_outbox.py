"""The outbox dispatcher: each message sent and recorded on its own, dead letters after the
last try with a staff alert, 429s as pacing of one chat, replies handed over in order."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.delivery import OutboxDelivery, RetryLater, Sender, hand_over
from bot.pacing import Pacer
from handlers.notifications import render_notification
from handlers.screens import Button, PayOrder, Photo, Screen, rows, screen_to_payload
from shop import outbox
from shop.accounts import AccountRef, Channel
from shop.models import OutboxMessage, OutboxStatus
from shop.models.types import utcnow

MODERATOR_CHAT = AccountRef(Channel.TELEGRAM, -100)


class FakeSender:
    """A messenger that records what it was asked to send; ``refuse`` fails chosen chats."""

    def __init__(self, refuse: dict[int, BaseException] | None = None) -> None:
        self.refuse = refuse or {}
        self.sent: list[tuple[int, str, str]] = []
        self.tries: list[int] = []

    async def send(self, external_id: int, screen: Screen, *, key: str) -> None:
        self.tries.append(external_id)
        if external_id in self.refuse:
            raise self.refuse[external_id]
        self.sent.append((external_id, screen.text, key))

    def texts(self, external_id: int) -> list[str]:
        return [text for chat, text, _ in self.sent if chat == external_id]


def delivery(sessions, sender: FakeSender) -> OutboxDelivery:
    return OutboxDelivery(
        sessions,
        {Channel.TELEGRAM: sender},
        pacer=Pacer(chats=False),
        moderator_chat=MODERATOR_CHAT,
    )


async def enqueue_screen(sessions, chat: int, text: str, channel: str = "telegram") -> int:
    async with sessions() as session, session.begin():
        payload = {"screen": screen_to_payload(Screen(text))}
        message = outbox.enqueue(session, "screen", payload, recipient=f"{channel}:{chat}")
        await session.flush()
        return message.id


async def make_due(sessions) -> None:
    """Time passes: every pending message's retry time (or lease) is over."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


async def stored(sessions, message_id: int) -> OutboxMessage:
    async with sessions() as session:
        message = await session.get(OutboxMessage, message_id)
        assert message is not None
        return message


async def test_an_unrenderable_message_is_dead_lettered_and_the_others_go_out_once(
    sessions, caplog
):
    first = await enqueue_screen(sessions, 1, "first")
    async with sessions() as session, session.begin():
        bad = outbox.enqueue(session, "order_status", {"status": "paid"}, recipient="telegram:2")
        await session.flush()
    last = await enqueue_screen(sessions, 3, "last")
    sender = FakeSender()
    dispatcher = delivery(sessions, sender)

    for _ in range(outbox.MAX_ATTEMPTS + 2):
        await dispatcher.run_once()
        await make_due(sessions)

    assert (sender.texts(1), sender.texts(2), sender.texts(3)) == (["first"], [], ["last"])
    dead = await stored(sessions, bad.id)
    assert (dead.status, dead.attempts) == (outbox.DEAD, outbox.MAX_ATTEMPTS)
    assert "KeyError" in (dead.last_error or "")
    assert [(await stored(sessions, m)).status for m in (first, last)] == ["sent", "sent"]
    [alert] = sender.texts(MODERATOR_CHAT.external_id)
    assert f"Сообщение №{bad.id} (order_status) для telegram:2 не доставлено" in alert
    assert any(r.levelno == logging.ERROR and str(bad.id) in r.getMessage() for r in caplog.records)


async def test_a_crash_after_a_send_repeats_only_the_message_in_flight(sessions):
    ids = [await enqueue_screen(sessions, chat, f"news {chat}") for chat in (1, 2, 3)]

    class DyingSender(FakeSender):
        async def send(self, external_id: int, screen: Screen, *, key: str) -> None:
            await super().send(external_id, screen, key=key)
            if external_id == 2:
                raise asyncio.CancelledError  # the process is killed right after this send

    dying = DyingSender()
    with pytest.raises(asyncio.CancelledError):
        await delivery(sessions, dying).run_once()
    await make_due(sessions)  # the lease of what the dead worker held runs out
    after = FakeSender()
    await delivery(sessions, after).run_once()

    assert [chat for chat, _, _ in dying.sent + after.sent] == [1, 2, 2, 3]
    assert dying.sent[1][2] == after.sent[0][2] == f"outbox/{ids[1]}"  # VK drops the repeat
    assert [(await stored(sessions, m)).status for m in ids] == ["sent"] * 3


async def test_a_429_holds_that_chat_only_and_costs_no_try(sessions):
    flooded = await enqueue_screen(sessions, 1, "to the flooded chat")
    await enqueue_screen(sessions, 2, "to another chat")
    sender = FakeSender(refuse={1: RetryLater(30)})
    dispatcher = delivery(sessions, sender)

    await dispatcher.run_once()
    assert sender.texts(2) == ["to another chat"]
    held = await stored(sessions, flooded)
    assert (held.status, held.attempts, held.last_error) == ("pending", 0, "rate limited")
    assert held.next_attempt_at > utcnow() + timedelta(seconds=25)

    await enqueue_screen(sessions, 2, "more news")
    await make_due(sessions)
    await dispatcher.run_once()
    assert sender.texts(2) == ["to another chat", "more news"]
    assert sender.tries.count(1) == 1  # still held: not tried again, not counted
    assert (await stored(sessions, flooded)).attempts == 0


async def test_a_flood_limit_of_the_whole_bot_holds_its_messenger_only(sessions):
    await enqueue_screen(sessions, 1, "first", "vk")
    later = await enqueue_screen(sessions, 2, "second", "vk")
    await enqueue_screen(sessions, 3, "third")
    vk, telegram = FakeSender(refuse={1: RetryLater(20, everyone=True)}), FakeSender()
    senders: dict[Channel, Sender] = {Channel.VK: vk, Channel.TELEGRAM: telegram}

    await OutboxDelivery(sessions, senders, Pacer(chats=False)).run_once()

    assert (vk.tries, telegram.texts(3)) == ([1], ["third"])
    postponed = await stored(sessions, later)
    assert (postponed.status, postponed.attempts) == ("pending", 0)
    assert postponed.next_attempt_at > utcnow() + timedelta(seconds=15)


async def test_a_message_whose_worker_keeps_dying_is_dead_lettered_not_claimed(sessions):
    async with sessions() as session, session.begin():
        note = outbox.enqueue(session, "order_status", {"order_id": 1, "status": "paid"})
        note.attempts = outbox.MAX_ATTEMPTS
        for_staff = outbox.enqueue(
            session, "staff_alert", {"reason": "x"}, recipient=outbox.MODERATORS
        )
        for_staff.attempts = outbox.MAX_ATTEMPTS
    async with sessions() as session, session.begin():
        assert await outbox.claim_due(session) == []
    async with sessions() as session:
        messages = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    statuses = [(m.kind, m.status) for (m,) in messages]
    assert statuses == [
        ("order_status", outbox.DEAD),
        ("staff_alert", outbox.DEAD),
        ("staff_alert", "pending"),  # about the order news only: an alert is never alerted
    ]
    alert = messages[2][0]
    assert (alert.recipient, alert.payload["reason"], alert.payload["message_id"]) == (
        outbox.MODERATORS,
        "undelivered",
        note.id,
    )


async def test_a_failed_alert_dies_without_another_alert(sessions):
    async with sessions() as session, session.begin():
        alert = outbox.enqueue(session, "staff_alert", {"reason": "x"}, recipient="telegram:-5")
    async with sessions() as session, session.begin():
        await outbox.mark_retry(session, alert.id, "boom", attempts=outbox.MAX_ATTEMPTS)
    async with sessions() as session:
        kinds = (await session.execute(select(OutboxMessage.kind, OutboxMessage.status))).all()
    assert [tuple(row) for row in kinds] == [("staff_alert", outbox.DEAD)]


async def test_a_reply_handed_over_goes_out_in_order_with_its_own_keys(sessions):
    screens = [Screen("one"), Screen("pay", pay=PayOrder(1, 1)), Screen("two")]
    account = AccountRef(Channel.TELEGRAM, 7)
    await hand_over(sessions, account, screens, ConnectionError("down"), ["u/0", "u/1", "u/2"])
    sender = FakeSender()

    await delivery(sessions, sender).run_once()

    assert sender.sent == [(7, "one", "u/0"), (7, "two", "u/2")]  # the payment is dropped


def test_a_screen_survives_the_trip_through_the_outbox():
    screen = Screen(
        "Шопер «Эко»",
        rows([Button("В корзину", action="cart:add:1"), Button("Сайт", url="https://example.org")]),
        photo=Photo(3),
        ask_contact="📱 Поделиться",
    )
    payload = json.loads(json.dumps({"screen": screen_to_payload(screen)}))
    assert render_notification("screen", payload, "en") == screen
