"""Webhook mode with its secret, duplicate updates, and order news delivered by the outbox."""

from __future__ import annotations

import time

import aiohttp
from sqlalchemy import select

from bot.app import start
from bot.telegram.frontend import WEBHOOK_PATH
from shop.models import ChannelAccount, Order, OrderStatus, OutboxMessage, OutboxStatus
from shop.orders import transition
from tests.e2e.conftest import eventually, free_port, order_tote_bag


async def test_webhook_mode_checks_the_secret_and_drops_duplicates(telegram, shop_settings):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = shop_settings(
        http_port=port, public_base_url=base, telegram_webhook_secret="s3cret-token"
    )
    runtime = await start(settings)
    try:
        token = settings.telegram_bot_token
        assert telegram.webhook_info(token)["url"] == base + WEBHOOK_PATH
        alice = telegram.user(token, first_name="Алиса")
        await alice.send("/start")
        assert alice.screen.text.startswith("Здравствуйте, Алиса!")

        update = {
            "update_id": 777_001,
            "message": {
                "message_id": 9001,
                "date": int(time.time()),
                "text": "/help",
                "chat": {"id": alice.id, "type": "private", "first_name": "Алиса"},
                "from": {"id": alice.id, "is_bot": False, "first_name": "Алиса"},
            },
        }
        async with aiohttp.ClientSession() as http:
            forged = await http.post(
                base + WEBHOOK_PATH,
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            )
            assert forged.status == 401
            for _ in range(3):
                answer = await http.post(
                    base + WEBHOOK_PATH,
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
                )
                assert answer.status == 200

        def helps() -> list[object]:
            return [m for m in alice.bot_messages if (m.text or "").startswith("Как купить")]

        await eventually(helps)  # the webhook answers first and handles in the background
        await telegram.settle(token)
        assert len(helps()) == 1
    finally:
        await runtime.stop()


async def test_status_change_reaches_the_shopper(shop):
    alice = shop.user()
    await order_tote_bag(alice)
    async with shop.runtime.sessions() as session, session.begin():
        told = select(OutboxMessage.id).where(OutboxMessage.recipient == "customer")
        assert await session.scalar(told) is None  # nothing to tell the shopper yet
        order = (await session.execute(select(Order))).scalar_one()
        await transition(session, order.id, OrderStatus.PAID, actor="system")
    await eventually(lambda: "оплачен" in (alice.bot_messages[-1].text or ""))
    assert alice.bot_messages[-1].text.startswith(f"Заказ №{order.id}: оплачен.\nОплата получена")
    await alice.press("Мои заказы")  # the list of her orders
    assert alice.screen.text.startswith("Ваши заказы")
    assert "оплачен" in str(alice.screen.raw["reply_markup"])


async def test_a_shopper_who_blocked_the_bot_is_marked_unreachable(shop):
    alice = shop.user()
    await order_tote_bag(alice)
    await alice.block()
    async with shop.runtime.sessions() as session, session.begin():
        order = (await session.execute(select(Order))).scalar_one()
        await transition(session, order.id, OrderStatus.CANCELLED, actor="staff:telegram:1")

    async def settled() -> bool:
        async with shop.runtime.sessions() as session:
            told = select(OutboxMessage).where(OutboxMessage.recipient == "customer")
            message = (await session.execute(told)).scalar_one()
            account = (await session.execute(select(ChannelAccount))).scalar_one()
        return message.status == OutboxStatus.FAILED and not account.reachable

    await eventually(settled)


async def test_flood_limit_answers_are_waited_out_not_lost(shop):
    limits = shop.emu.rate_limits
    limits.per_private_chat_per_second, limits.private_burst = 1.0, 1
    limits.enabled = True
    alice = shop.user()
    await alice.send("/start")
    await alice.send("/help")  # within the same second: Telegram answers 429 retry_after
    await alice.wait_for("Как купить")
    refused = shop.emu.calls("sendMessage", token=shop.token, ok=False)
    assert [c.error_code for c in refused] == [429]
    assert [m.text.split("\n")[0] for m in alice.bot_messages][-1] == "Как купить:"
