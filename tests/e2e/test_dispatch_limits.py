"""Outbox delivery within the messengers' limits, the shop running as in production:

- Telegram answers 429 for one chat for a while, then 5xx: every message comes through
  afterwards, in order and once, nothing goes to that chat before its retry_after is over,
  and the other chats are served meanwhile (SQLite and PostgreSQL);
- with Telegram's limits on, fifty chats' messages go without a single 429;
- a process without the sending role (PostgreSQL, no Redis) hands its replies to the
  outbox, and delivers them once it takes the role over.
"""

from __future__ import annotations

import collections

import pytest
from sqlalchemy import select, text

from bot import budget, sending_role
from bot.app import start
from handlers.screens import Screen, screen_to_payload
from shop import outbox
from shop.db import create_engine
from shop.models import OutboxMessage
from tests.e2e.conftest import eventually
from tests.emulators.telegram import Person

NEWS = "Новости магазина"


async def queue(shop, people: list[Person], count: int = 1) -> None:
    async with shop.runtime.sessions() as session, session.begin():
        for person in people:
            for n in range(1, count + 1):
                payload = {"screen": screen_to_payload(Screen(f"{NEWS} №{n}"))}
                outbox.enqueue(session, "screen", payload, recipient=f"telegram:{person.id}")


def news(person: Person) -> list[str]:
    return [m.text or "" for m in person.bot_messages if (m.text or "").startswith(NEWS)]


async def test_a_429_then_server_errors_hold_one_chat_and_all_arrives_after(shop):
    emu = shop.emu
    alice = shop.user("Алиса")
    others = [shop.user(f"Покупатель{n}") for n in range(5)]
    emu.fail_next("sendMessage", retry_after=2, chat_id=alice.id)
    emu.fail_next("sendMessage", 500, chat_id=alice.id, times=3)  # one outbox try's worth
    emu.fail_next("sendMessage", 502, html=True, chat_id=alice.id)
    await queue(shop, [alice, *others], count=3)

    async def everyone_has_all() -> bool:
        return all(len(news(p)) == 3 for p in [alice, *others])

    await eventually(everyone_has_all, within=20)
    for person in [alice, *others]:  # in order, each once
        assert news(person) == [f"{NEWS} №{n}" for n in (1, 2, 3)]
    [too_many] = [c for c in emu.calls("sendMessage", ok=False) if c.error_code == 429]
    assert too_many.chat_id == alice.id
    to_alice = [c for c in emu.world.calls if c.chat_id == alice.id and c.index > too_many.index]
    assert to_alice and min(c.at for c in to_alice) >= too_many.at + 2  # retry_after honoured
    server_errors = [c for c in to_alice if c.error_code in (500, 502)]
    assert len(server_errors) == 4  # every fault was met, and retried
    sent = collections.Counter(s.chat_id for s in emu.sends)
    assert sent[alice.id] == 3
    # the others did not wait for Alice: all theirs went while she was held
    assert all(s.at < too_many.at + 2 for s in emu.sends if s.chat_id != alice.id)


async def test_telegram_limits_on_the_crowd_get_no_429(shop):
    """Fifty chats, three messages each through the outbox, with Telegram's limits on:
    the pace per chat and overall keeps every send within them."""
    emu = shop.emu
    emu.rate_limits.enabled = True
    people = [shop.user(f"П{n}") for n in range(50)]
    await queue(shop, people, count=3)

    async def all_delivered() -> bool:
        return all(len(news(p)) == 3 for p in people)

    await eventually(all_delivered, within=20)
    assert [c for c in emu.world.calls if c.error_code == 429] == []
    assert all(news(p) == [f"{NEWS} №{n}" for n in (1, 2, 3)] for p in people)


async def test_a_standby_process_hands_its_replies_to_the_one_that_sends(
    database_url, telegram, shop_settings
):
    """PostgreSQL without Redis: while another process holds the sending role (here the
    test holds its lock), the shop's replies wait in the outbox; once it takes the role
    over, they are delivered."""
    if database_url.startswith("sqlite"):
        pytest.skip("one process sends on SQLite: there is no role to hold")
    other = create_engine(database_url)
    holder = await other.connect()
    lock = text("SELECT pg_try_advisory_lock(:key)")
    assert (await holder.execute(lock, {"key": sending_role.LOCK_KEY})).scalar()
    await holder.commit()
    runtime = await start(shop_settings())
    try:
        alice = telegram.user(shop_settings().telegram_bot_token, first_name="Алиса")
        await alice.send("/start", expect_reply=False)

        async def handed_over() -> bool:
            async with runtime.sessions() as session:
                query = select(OutboxMessage).where(
                    OutboxMessage.recipient == f"telegram:{alice.id}"
                )
                return bool((await session.execute(query)).scalars().all())

        await eventually(handed_over)
        assert alice.bot_messages == []
        assert not budget.sending()

        await holder.invalidate()  # the other process is gone: its connection and lock too
        await alice.wait_for("Здравствуйте", within=15)
        assert budget.sending()
        assert len(alice.bot_messages) == 1
    finally:
        await runtime.stop()
        await other.dispose()
