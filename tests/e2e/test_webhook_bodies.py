"""Webhook endpoints refuse what is not a well-formed, signed event with 400/401/403, store
nothing and log no traceback; a good event is answered only once it is stored."""

from __future__ import annotations

import logging

import aiohttp
from sqlalchemy import func, select

from bot.app import start
from bot.telegram.frontend import SECRET_HEADER, WEBHOOK_PATH
from shop.models import InboxEvent
from tests.e2e.conftest import free_port

SECRET = "s3cret-token"


async def _stored(runtime) -> int:
    async with runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(InboxEvent))


async def test_telegram_webhook_refuses_malformed_bodies(telegram, shop_settings, caplog):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    runtime = await start(
        shop_settings(http_port=port, public_base_url=base, telegram_webhook_secret=SECRET)
    )
    url = base + WEBHOOK_PATH
    signed = {SECRET_HEADER: SECRET}
    try:
        caplog.set_level(logging.INFO)
        async with aiohttp.ClientSession() as http:
            bodies = [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"update_id": "7"}', b"{}", b""]
            for body in bodies:
                async with http.post(url, data=body, headers=signed) as answer:
                    assert answer.status == 400, body
            async with http.post(url, json={"update_id": 1}, headers={}) as answer:
                assert answer.status == 401
            group_message = {
                "update_id": 5,
                "message": {
                    "message_id": 1,
                    "date": 1_700_000_000,
                    "chat": {"id": -100, "type": "group", "title": "Чат"},
                    "from": {"id": 42, "is_bot": False, "first_name": "Ира"},
                    "text": "привет",
                },
            }
            async with http.post(url, json=group_message, headers=signed) as answer:
                assert answer.status == 200  # stored, then left unanswered: not a private chat
        assert await _stored(runtime) == 1
        assert not [r for r in caplog.records if r.exc_info]
    finally:
        await runtime.stop()
