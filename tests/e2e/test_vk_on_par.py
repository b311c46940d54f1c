"""VK on par with Telegram: labels that keep their marks within 40 characters, numbered
text menus for clients without inline buttons, the community set up by the bot itself."""

from __future__ import annotations

from sqlalchemy import select

from shop.models import Category, Product, Variant
from tests.e2e.conftest import seen
from tests.e2e.test_vk_storefront import VkShop, labels, shop, tap, vk  # noqa: F401  (fixtures)

LONG_TITLE = "Футболка с длинным названием «Озеро Байкал на рассвете», оверсайз"


async def _add_long_titled_product(shop: VkShop, stock: int) -> None:  # noqa: F811
    async with shop.sessions() as session, session.begin():
        category = (
            await session.execute(select(Category).where(Category.title == "Футболки"))
        ).scalar_one()
        product = Product(title=LONG_TITLE, description="Длинное название.", category=category)
        product.variants = [Variant(sku="LONG-1", price=2490_00, stock=stock)]
        session.add(product)


async def test_a_sold_out_mark_survives_a_long_title(shop: VkShop) -> None:  # noqa: F811
    await _add_long_titled_product(shop, stock=0)
    alice = shop.user()
    await alice.send("Начать")
    await tap(alice, "🛍 Каталог")
    await tap(alice, "Одежда")
    await tap(alice, "Футболки")
    long = [label for label in labels(alice) if "длинным" in label]
    assert len(long) == 1
    label = seen(long[0])
    assert len(label) <= 40
    assert label.startswith("✖ Футболка с длинным")
    assert label.endswith("… — нет в наличии")


async def test_a_price_survives_a_long_title_in_lists_and_the_cart(
    shop: VkShop,  # noqa: F811
) -> None:
    await _add_long_titled_product(shop, stock=5)
    alice = shop.user()
    await alice.send("Начать")
    await tap(alice, "🛍 Каталог")
    await tap(alice, "Одежда")
    await tap(alice, "Футболки")
    long = next(seen(label) for label in labels(alice) if "длинным" in label)
    assert len(long) <= 40 and long.endswith("… — от 2 490 ₽")
    await tap(alice, long[:20])
    await tap(alice, "🛒 В корзину")
    await tap(alice, "Перейти в корзину")
    line = next(seen(label) for label in labels(alice) if label.startswith("1."))
    assert len(line) <= 40 and line.startswith("1. Футболка с") and line.endswith("… × 1")
