"""One person in Telegram and VK at once: link by a code, one cart and one order list,
notifications where they want them, unlink without losing an order; codes that are refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from bot.app import Runtime, start
from shop.models import LinkCode, Order, OrderStatus
from shop.models.types import utcnow
from shop.orders import transition
from tests.e2e.conftest import eventually, seen
from tests.emulators.telegram import Person as TelegramPerson
from tests.emulators.telegram import TelegramEmulator
from tests.emulators.vk import VkEmulator
from tests.emulators.vk.driver import Person as VkPerson


@dataclass
class BothShops:
    telegram: TelegramEmulator
    token: str
    vk: VkEmulator
    group: object
    runtime: Runtime

    def telegram_user(self, name: str) -> TelegramPerson:
        return self.telegram.user(self.token, first_name=name, language_code="ru")

    def vk_user(self, name: str) -> VkPerson:
        return self.vk.user(self.group, first_name=name)  # type: ignore[arg-type]


@pytest.fixture
async def both(telegram: TelegramEmulator, shop_settings) -> AsyncIterator[BothShops]:
    vk = VkEmulator()
    await vk.start()
    group = vk.create_group(name="Демо-магазин", screen_name="demo_shop")
    settings = shop_settings(
        vk_group_token=group.token, vk_group_id=group.id, vk_api_url=vk.api_url
    )
    runtime = await start(settings)
    try:
        await vk.wait_for_bot(group)
        yield BothShops(telegram, settings.telegram_bot_token, vk, group, runtime)
        assert vk.warnings == [] and telegram.spec_warnings == []
    finally:
        await runtime.stop()
        await vk.stop()


def labels(screen: object) -> list[str]:
    return [label for row in screen.buttons for label in row]  # type: ignore[attr-defined]


async def tap(person: VkPerson | TelegramPerson, start: str) -> None:
    """Press the button on the bot's last message whose label starts with ``start`` (waiting
    for it: an edit may land after the press was answered)."""

    def found() -> list[str]:
        return [label for label in labels(person.screen) if seen(label).startswith(start)]

    try:
        await eventually(found, within=5)
    except AssertionError:
        raise AssertionError(f"no button {start!r} in {labels(person.screen)}") from None
    await person.press(found()[0])


async def place_order(person: VkPerson | TelegramPerson) -> int:
    """Check out the cart as it is: saved name, typed phone, pickup; the order's number."""
    await tap(person, "✅ Оформить заказ")
    await tap(person, "Использовать: Алиса")
    await person.send("+79001234567")
    await tap(person, "Самовывоз")
    await tap(person, "Без комментария")
    await tap(person, "Без чека на почту")
    await tap(person, "✅ Подтвердить")
    placed = re.search(r"Заказ №(\d+) оформлен", person.screen.text or "")
    assert placed, person.screen.text
    return int(placed.group(1))


async def code_in(person: VkPerson | TelegramPerson) -> str:
    await person.send("/link")
    found = re.search(r"Ваш код: (\d{6})", person.screen.text or "")
    assert found, person.screen.text
    return found.group(1)


async def add_tote_bag(person: VkPerson | TelegramPerson) -> None:
    await person.send("шопер")
    await tap(person, "Шопер")
    await tap(person, "🛒 В корзину")


async def test_one_cart_and_one_order_list_from_either_messenger(both: BothShops) -> None:
    alice = both.telegram_user("Алиса")
    alice_vk = both.vk_user("Алиса")
    await add_tote_bag(alice)
    await tap(alice, "Перейти в корзину")
    first = await place_order(alice)  # an order placed in Telegram before the link
    await add_tote_bag(alice)
    await alice_vk.send("Начать", payload='{"command":"start"}')

    code = await code_in(alice)
    await alice_vk.send(code)
    assert alice_vk.screen.text.startswith("Готово: Telegram, ВКонтакте теперь связаны")
    await alice.wait_for("Ваш аккаунт ВКонтакте связан с этим")

    await tap(alice_vk, "🛒 Корзина (1)")
    assert "Шопер «Эко»" in alice_vk.screen.text
    second = await place_order(alice_vk)
    async with both.runtime.sessions() as session:
        placed = (await session.execute(select(Order.id).order_by(Order.id))).scalars().all()
    assert placed == [first, second]

    await alice.send("/orders")
    mine = [label for label in labels(alice.screen) if label.startswith("№")]
    assert [label.split()[0] for label in mine] == [f"№{second}", f"№{first}"]

    # Notifications go where she wrote last...
    await alice_vk.send("/help")
    await change_status(both, second, OrderStatus.PAID)
    await alice_vk.wait_until(lambda: alice_vk.screen.text == f"Заказ №{second}: оплачен.")
    # ...unless she picks a messenger in Settings: then there, wherever she writes.
    await alice.send("/settings")
    await tap(alice, "🔔 Уведомления: Telegram")
    assert alice.screen.text == "Готово: уведомления будут приходить в Telegram."
    await alice_vk.send("/help")
    await change_status(both, second, OrderStatus.ASSEMBLING)
    await alice.wait_for(f"Заказ №{second}: собирается.")
    assert not any("собирается" in (m.text or "") for m in alice_vk.bot_messages)

    # Unlinking VK from Telegram: each side keeps the orders it placed, the cart stays.
    await alice.send("/settings")
    await tap(alice, "✂️ Отвязать ВКонтакте")
    await tap(alice, "✂️ Да, отвязать")
    assert alice.screen.text.startswith("Аккаунт ВКонтакте отвязан")
    await alice_vk.wait_until(lambda: "отвязан от этого" in alice_vk.screen.text)
    await alice.send("/orders")
    assert [label.split()[0] for label in labels(alice.screen) if label.startswith("№")] == [
        f"№{first}"
    ]
    await alice_vk.send("/orders")
    assert [label.split()[0] for label in labels(alice_vk.screen) if label.startswith("№")] == [
        f"№{second}"
    ]


async def change_status(both: BothShops, order_id: int, status: OrderStatus) -> None:
    async with both.runtime.sessions() as session, session.begin():
        await transition(session, order_id, status, actor="staff:telegram:1")


async def test_wrong_expired_and_spent_codes_are_refused_and_guessing_stops(
    both: BothShops,
) -> None:
    alice = both.telegram_user("Алиса")
    alice_vk = both.vk_user("Алиса")
    mallory = both.vk_user("Мэллори")
    await alice_vk.send("Начать", payload='{"command":"start"}')
    await mallory.send("Начать", payload='{"command":"start"}')

    stale = await code_in(alice)
    async with both.runtime.sessions() as session, session.begin():
        await session.execute(update(LinkCode).values(expires_at=utcnow()))
    await alice_vk.send(stale)
    assert alice_vk.screen.text.startswith("Срок действия кода истёк")
    await alice.send("/menu")
    await tap(alice, "⚙️ Настройки")
    await tap(alice, "🔗 Связать с другим мессенджером")
    found = re.search(r"Ваш код: (\d{6})", alice.screen.text or "")
    assert found, alice.screen.text
    code = found.group(1)
    wrong = "000000" if code != "000000" else "111111"
    await alice_vk.send(f"/link {wrong}")
    assert alice_vk.screen.text.startswith("Такого кода нет")
    await alice_vk.send("/settings")
    await tap(alice_vk, "⌨️ У меня есть код")
    await alice_vk.send(f"{code[:3]} {code[3:]}")
    assert alice_vk.screen.text.startswith("Готово: Telegram, ВКонтакте теперь связаны")

    await mallory.send(code)
    assert mallory.screen.text.startswith("Этот код уже использован")
    for _ in range(4):
        await mallory.send(wrong)
        assert mallory.screen.text.startswith("Такого кода нет")
    fresh = await code_in(alice_vk)
    await mallory.send(fresh)
    assert mallory.screen.text.startswith("Слишком много неверных кодов")
    await mallory.send("/orders")
    assert mallory.screen.text == "Заказов пока нет."
