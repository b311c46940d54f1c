"""The send budget: a burst goes at once, then one send per interval; shared through Redis,
two processes' budgets are one; Redis out of reach leaves each process pacing alone."""

from __future__ import annotations

import os
import uuid

import pytest

from bot.budget import LocalBudget, Rate, RedisBudget, telegram_buckets

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHAT = Rate(1.0, burst=3)
BOT = Rate(0.1, burst=1)


def _waits_are_spaced(waits: list[float], burst: int, interval: float) -> bool:
    ahead = [round(w, 2) for w in waits]
    expected = [0.0] * burst + [round(interval * n, 2) for n in range(1, len(waits) - burst + 1)]
    return all(abs(a - e) <= 0.05 for a, e in zip(ahead, expected, strict=True))


async def test_a_chat_gets_its_burst_then_one_send_per_interval() -> None:
    budget = LocalBudget()
    waits = [await budget.delay([("chat", CHAT)], 1) for _ in range(5)]
    assert _waits_are_spaced(waits, burst=3, interval=1.0)


async def test_the_bot_bucket_paces_sends_to_different_chats() -> None:
    budget = LocalBudget()
    waits = [await budget.delay([("bot", BOT), (f"chat{n}", CHAT)], 1) for n in range(4)]
    assert _waits_are_spaced(waits, burst=1, interval=0.1)


def test_private_chats_and_groups_have_their_own_rates() -> None:
    private, group = telegram_buckets(7, 42), telegram_buckets(7, -100123)
    assert private[0] == group[0] and private[1][1] != group[1][1]
    assert telegram_buckets(7, None) == private[:1]


async def test_two_processes_share_one_budget_through_redis() -> None:
    first, second = RedisBudget(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}:"), None
    try:
        try:
            await first.client.ping()
        except Exception:
            pytest.skip(f"no Redis at {REDIS_URL}")
        second = RedisBudget(REDIS_URL, prefix=first.prefix)
        waits = []
        for n in range(6):
            budget = first if n % 2 else second
            waits.append(await budget.delay([("chat", CHAT)], 1))
        # the clock runs between calls: each wait is a little shorter than its slot
        assert _waits_are_spaced(waits, burst=3, interval=1.0)
        assert not first._failing and not second._failing
    finally:
        await first.close()
        if second is not None:
            await second.close()


async def test_without_redis_a_process_paces_alone() -> None:
    budget = RedisBudget("redis://127.0.0.1:1/0")
    try:
        waits = [await budget.delay([("chat", CHAT)], 1) for _ in range(4)]
        assert _waits_are_spaced(waits, burst=3, interval=1.0)
        assert budget._failing
    finally:
        await budget.close()


@pytest.mark.parametrize("shared", [False, True])
async def test_replies_do_not_wait_for_their_chat_but_fill_it_for_the_outbox(
    shared: bool,
) -> None:
    budget = RedisBudget(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}:") if shared else LocalBudget()
    replies = [
        await budget.delay(telegram_buckets(7, 42, wait_for_chat=False)[1:], 1) for _ in range(5)
    ]
    outbox = await budget.delay(telegram_buckets(7, 42)[1:], 1)
    await budget.close()
    assert replies == [0.0] * 5
    # filled, not overdrawn: the outbox waits one interval, not for every reply
    assert 0.9 < outbox < 1.1
