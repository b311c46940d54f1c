"""The emulators' injected faults reach the real clients as the real failures would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import requests
import vk_api
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot.vk_session import make_vk_api
from tests.emulators.telegram import TelegramEmulator
from tests.emulators.vk import VkEmulator


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as emu:
        yield emu


@pytest.fixture
async def vk() -> AsyncIterator[VkEmulator]:
    async with VkEmulator() as emu:
        yield emu


@pytest.mark.parametrize(
    ("arm", "error"),
    [
        (lambda emu: emu.fail_next("sendMessage"), TelegramServerError),
        (lambda emu: emu.fail_next("sendMessage", 502, html=True), ClientDecodeError),
        (lambda emu: emu.drop_next("sendMessage"), TelegramNetworkError),
        (lambda emu: emu.fail_next("sendMessage", retry_after=7), TelegramRetryAfter),
    ],
)
async def test_a_telegram_fault_fails_one_call_and_does_nothing(telegram, arm, error):
    token = telegram.create_bot()
    alice = telegram.user(token)
    bot = telegram.make_bot(token)
    try:
        arm(telegram)
        with pytest.raises(error):
            await bot.send_message(alice.id, "first")
        assert alice.bot_messages == []
        await bot.send_message(alice.id, "second")
    finally:
        await bot.session.close()
    assert [m.text for m in alice.bot_messages] == ["second"]
    assert [c.fault for c in telegram.calls("sendMessage")] == [True, False]


async def test_a_telegram_fault_can_aim_at_one_chat(telegram):
    token = telegram.create_bot()
    alice, bob = telegram.user(token, "Alice"), telegram.user(token, "Bob")
    bot = telegram.make_bot(token)
    try:
        telegram.fail_next("sendMessage", retry_after=30, chat_id=alice.id)
        await bot.send_message(bob.id, "to Bob")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(alice.id, "to Alice")
    finally:
        await bot.session.close()
    assert caught.value.retry_after == 30
    assert [m.text for m in bob.bot_messages] == ["to Bob"]


async def _send(vk: vk_api.VkApi, **params: Any) -> Any:
    return await asyncio.to_thread(vk.method, "messages.send", params)


@pytest.mark.parametrize(
    ("arm", "error"),
    [
        (lambda emu: emu.fail_http("messages.send", 502), vk_api.ApiHttpError),
        (lambda emu: emu.fail_http("messages.send", 200), requests.JSONDecodeError),
        (lambda emu: emu.drop_next("messages.send"), requests.ConnectionError),
    ],
)
async def test_a_vk_fault_fails_one_call_and_does_nothing(vk, arm, error):
    group = vk.create_group()
    bob = vk.user(group)
    client = make_vk_api(group.token, group.id, vk.api_url)
    arm(vk)
    with pytest.raises(error):
        await _send(client, peer_id=bob.id, random_id=1, message="first")
    assert bob.messages == []
    await _send(client, peer_id=bob.id, random_id=2, message="second")
    assert [m.text for m in bob.messages] == ["second"]


async def test_a_lost_vk_answer_is_done_and_a_repeat_with_its_random_id_is_dropped(vk):
    group = vk.create_group()
    bob = vk.user(group)
    client = make_vk_api(group.token, group.id, vk.api_url)
    vk.lose_answers("messages.send")
    with pytest.raises(requests.ConnectionError):
        await _send(client, peer_id=bob.id, random_id=77, message="once")
    first = bob.messages[0].id
    assert await _send(client, peer_id=bob.id, random_id=77, message="once") == first
    assert [m.text for m in bob.messages] == ["once"]
