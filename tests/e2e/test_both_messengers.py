"""The whole process with both messengers on: one catalog and stock behind both."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import front_end_status, start
from shop.models import Variant
from tests.e2e.conftest import order_tote_bag
from tests.emulators.vk import VkEmulator

TOTE = "DEMO-010-00"  # Шопер «Эко», 30 in stock


async def test_telegram_and_vk_shoppers_share_one_shop(telegram, shop_settings):
    vk = VkEmulator()
    await vk.start()
    group = vk.create_group(name="Демо-магазин", screen_name="demo_shop")
    settings = shop_settings(
        vk_group_token=group.token, vk_group_id=group.id, vk_api_url=vk.api_url
    )
    assert front_end_status(settings)[1] == f"VK: on (Bots Long Poll, API {vk.api_url})"
    runtime = await start(settings)
    try:
        await vk.wait_for_bot(group)
        alice = telegram.user(settings.telegram_bot_token, first_name="Алиса")
        bob = vk.user(group, first_name="Боб")
        await bob.send("Начать")
        assert bob.screen.text.startswith("Здравствуйте")
        await order_tote_bag(alice)
        await bob.send("шопер")
        await bob.press("Шопер «Эко» — от 790\u00a0₽")
        assert "Шопер «Эко»" in bob.screen.text
        async with runtime.sessions() as session:
            stock = await session.scalar(select(Variant.stock).where(Variant.sku == TOTE))
        assert stock == 29
        assert vk.warnings == []
    finally:
        await runtime.stop()
        await vk.stop()
