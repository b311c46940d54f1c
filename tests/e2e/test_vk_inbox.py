"""VK events through the inbox: a restarted long poll resumes where it stopped, and the
Callback API refuses malformed bodies, storing nothing."""

from __future__ import annotations

import json

import aiohttp
from sqlalchemy import func, select

from bot.vk.frontend import WEBHOOK_PATH
from shop.models import InboxEvent
from tests.e2e.conftest import eventually
from tests.e2e.test_vk_storefront import running_shop, vk  # noqa: F401  (fixture)
from tests.emulators.vk import VkEmulator


def _texts(person) -> list[str]:
    return [m.text for m in person.bot_messages]


async def test_long_poll_resumes_after_a_restart_losing_nothing(
    vk: VkEmulator,  # noqa: F811
    database_url: str,
) -> None:
    group = vk.create_group("Демо-магазин", "demo_shop")
    async with running_shop(vk, database_url, group=group) as shop:
        alice = shop.user()
        await alice.send("Начать")
        assert alice.screen.text.startswith("Здравствуйте, Алиса!")
    # The bot is down: what Alice writes now waits in VK's long poll history.
    await alice.send("кружки", wait=False)
    await alice.send("/help", wait=False)
    async with running_shop(vk, database_url, group=group) as shop:

        def answered() -> bool:
            texts = _texts(alice)
            return any(t.startswith("Нашлось") for t in texts) and any(
                t.startswith("Как купить") for t in texts
            )

        await eventually(answered)
        async with shop.sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(InboxEvent))
    texts = _texts(alice)
    assert len([t for t in texts if t.startswith("Нашлось")]) == 1
    assert len([t for t in texts if t.startswith("Как купить")]) == 1
    assert texts.index(next(t for t in texts if t.startswith("Нашлось"))) < texts.index(
        next(t for t in texts if t.startswith("Как купить"))
    )
    assert stored == 3


async def test_callback_api_refuses_malformed_bodies(
    vk: VkEmulator,  # noqa: F811
    database_url: str,
) -> None:
    async with running_shop(vk, database_url, callback_secret="s3cret") as shop:
        url = shop.base_url + WEBHOOK_PATH
        group_id = shop.group.id
        bad = [
            b"{not json",
            json.dumps([1, 2]).encode(),
            json.dumps(
                {
                    "type": "message_new",
                    "group_id": group_id,
                    "secret": "s3cret",
                    "object": "a string",
                }
            ).encode(),
            json.dumps(
                {"type": 5, "group_id": group_id, "secret": "s3cret", "object": {}}
            ).encode(),
        ]
        async with aiohttp.ClientSession() as http:
            for body in bad:
                async with http.post(url, data=body) as answer:
                    assert answer.status in (400, 403), body
            unsigned = {"type": "message_new", "group_id": group_id, "object": {}}
            async with http.post(url, json=unsigned) as answer:
                assert answer.status == 403
        async with shop.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(InboxEvent)) == 0
