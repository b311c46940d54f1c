"""Greetings and menu words typed instead of pressed open what they mean, in Telegram and VK,
in Russian and English; the same words inside a longer message are searched as usual."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.conftest import Shop, check_out_tote_bag, seen
from tests.e2e.test_vk_storefront import VkShop, running_shop, vk  # noqa: F401 (fixture)
from tests.emulators.vk import VkEmulator

RUSSIAN = [
    ("Привет!", "Здравствуйте, Алиса!"),
    ("здравствуйте", "Здравствуйте, Алиса!"),
    ("Добрый день 🙂", "Здравствуйте, Алиса!"),
    ("корзина", "Корзина пуста."),
    ("🛒 Корзина", "Корзина пуста."),
    ("Мои заказы", "Заказов пока нет."),
    ("ЗАКАЗЫ", "Заказов пока нет."),
    ("помощь?", "Как купить:"),
    ("меню", "Главное меню."),
    ("Каталог", "Каталог. Выберите раздел:"),
    ("старт", "Здравствуйте, Алиса!"),
    ("привет кружка", "Нашлось по запросу «привет кружка»: 1."),
]
ENGLISH = [
    ("Hi", "Hello, Bob!"),
    ("hello!!", "Hello, Bob!"),
    ("cart", "Your cart is empty."),
    ("My orders", "No orders yet."),
    ("ORDERS", "No orders yet."),
    ("help", "How to buy:"),
    ("menu", "Main menu."),
    ("catalog", "Catalog. Pick a section:"),
    ("start", "Hello, Bob!"),
    ("mug", "Found for “mug”: 1."),
]


@pytest.fixture
async def vk_shop(vk: VkEmulator, database_url: str) -> AsyncIterator[VkShop]:  # noqa: F811
    async with running_shop(vk, database_url) as running:
        yield running


async def test_telegram_shopper_types_words_in_russian_and_english(shop: Shop) -> None:
    alice = shop.user("Алиса")
    for typed, expected in RUSSIAN:
        await alice.send(typed)
        assert alice.screen.text.startswith(expected), (typed, alice.screen.text)
    bob = shop.user("Bob", language_code="en")
    for typed, expected in ENGLISH:
        await bob.send(typed)
        assert bob.screen.text.startswith(expected), (typed, bob.screen.text)


async def test_vk_shopper_types_words_in_russian_and_english(vk_shop: VkShop) -> None:
    alice = vk_shop.user("Алиса")
    for typed, expected in RUSSIAN:
        await alice.send(typed)
        assert alice.screen.text.startswith(expected), (typed, alice.screen.text)
    bob = vk_shop.user("Bob", lang="en")
    for typed, expected in ENGLISH:
        await bob.send(typed)
        assert bob.screen.text.startswith(expected), (typed, bob.screen.text)


async def test_a_word_during_checkout_is_the_answer_not_a_menu(shop: Shop) -> None:
    alice = shop.user("Алиса")
    await check_out_tote_bag(alice)
    await alice.send("Привет")  # the recipient's name, as odd as it is
    assert any(m.text.startswith("Телефон для связи") for m in alice.messages if m.from_bot)
    assert not any((m.text or "").startswith("Здравствуйте") for m in alice.messages)


SEARCHES = [
    ("футбока", "Футболка «Байкал»"),  # a typo
    ("кеды стрт", "Кеды «Старт»"),
    ("кружка синяя", "Кружка керамическая «Утро»"),  # a colour
    ("футболка M", "Футболка «Байкал»"),  # a size
    ("футболка хл", "Футболка оверсайз «Север»"),
    ("canvas sneakrs", "Кеды «Старт»"),  # English, with a typo
]


async def test_telegram_search_forgives_typos_and_knows_colours_and_sizes(shop: Shop) -> None:
    alice = shop.user("Алиса")
    for typed, first in SEARCHES:
        await alice.send(typed)
        assert alice.screen.text.startswith(f"Нашлось по запросу «{typed}»")
        assert seen(alice.screen.buttons[0][0]).startswith(first), (typed, alice.screen.buttons)


async def test_vk_search_forgives_typos_and_knows_colours_and_sizes(vk_shop: VkShop) -> None:
    bob = vk_shop.user("Bob", lang="en")
    for typed, first in SEARCHES:
        await bob.send(typed)
        assert bob.screen.text.startswith(f"Found for “{typed}”")
        assert seen(bob.screen.buttons[0][0]).startswith(first), (typed, bob.screen.buttons)
