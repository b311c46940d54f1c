"""Telegram shows "typing…" while a slow answer is prepared (the VK side and the quick
answer that shows none: tests/e2e/test_vk_on_par.py)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from shop.models import ChannelAccount, Customer
from tests.e2e.conftest import Shop, eventually

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


async def test_a_slow_answer_shows_typing_before_it(shop: Shop) -> None:
    alice = shop.user()
    await alice.send("/start")
    # Slow: another transaction holds her customer row, so her answer waits for it.
    async with shop.runtime.sessions() as session, session.begin():
        await session.execute(
            select(Customer.id)
            .join(ChannelAccount, ChannelAccount.customer_id == Customer.id)
            .where(ChannelAccount.external_id == alice.id)
            .with_for_update()
        )
        sending = asyncio.create_task(alice.send("/help"))
        await eventually(lambda: shop.emu.calls("sendChatAction"))
        assert not sending.done()
    await sending
    assert alice.screen.text.startswith("Как купить")
    [typing] = shop.emu.calls("sendChatAction")
    assert typing.params["action"] == "typing" and typing.chat_id == alice.id
    reply = shop.emu.calls("sendMessage")[-1]
    assert typing.index < reply.index
