"""Reading the catalog as a shopper: categories, pages, product cards, search."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from shop.catalog import get_product, list_categories, list_products, search_products
from shop.errors import ShopError
from shop.models import Category, Product


async def test_top_level_categories_are_the_demo_shop(demo):
    async with demo() as session:
        titles = [c.title for c in await list_categories(session)]
    assert titles == ["Одежда", "Обувь", "Аксессуары", "Дом и кухня", "Косметика"]


async def test_subcategories_follow_their_parent(demo):
    async with demo() as session:
        clothes = (await list_categories(session))[0]
        titles = [c.title for c in await list_categories(session, clothes.id)]
    assert titles == ["Футболки", "Худи и свитшоты"]


async def test_products_page_puts_out_of_stock_last_and_counts_pages(demo):
    async with demo() as session:
        accessories = next(c for c in await list_categories(session) if c.title == "Аксессуары")
        first = await list_products(session, accessories.id, page=1, per_page=3)
        second = await list_products(session, accessories.id, page=2, per_page=3)
    assert (first.total, first.pages) == (5, 2)
    assert all(item.in_stock for item in first.items)
    assert [i.title for i in second.items][-1] == "Зонт складной «Капля»"
    assert not second.items[-1].in_stock


async def test_page_number_out_of_range_is_clamped(demo):
    async with demo() as session:
        accessories = next(c for c in await list_categories(session) if c.title == "Аксессуары")
        page = await list_products(session, accessories.id, page=99, per_page=3)
    assert page.page == 2


async def test_min_price_of_product_with_variants(demo):
    async with demo() as session:
        shirts = (await search_products(session, "Байкал")).items
    assert shirts[0].min_price == 149000


async def test_hidden_product_is_not_listed_nor_opened(demo):
    async with demo() as session, session.begin():
        await session.execute(
            update(Product).where(Product.title == "Шопер «Эко»").values(hidden=True)
        )
    async with demo() as session:
        assert (await search_products(session, "шопер")).total == 0
        product_id = (
            (
                await session.execute(
                    Product.__table__.select().where(Product.title == "Шопер «Эко»")
                )
            )
            .first()
            .id
        )
        with pytest.raises(ShopError) as error:
            await get_product(session, product_id)
    assert error.value.code == "not_available"


async def test_hidden_category_hides_its_products(demo):
    async with demo() as session, session.begin():
        await session.execute(
            update(Category).where(Category.title == "Косметика").values(hidden=True)
        )
    async with demo() as session:
        assert "Косметика" not in [c.title for c in await list_categories(session)]
        assert (await search_products(session, "крем")).total == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("кружки", "Кружка керамическая «Утро»"),
        ("КРУЖКА", "Кружка керамическая «Утро»"),
        ("футболки байкал", "Футболка «Байкал»"),
        ("ежик", "Футболка детская «Ёжик»"),
        ("mugs", "Кружка керамическая «Утро»"),
        ("canvas sneakers", "Кеды «Старт»"),
    ],
)
async def test_search_in_russian_and_english(demo, query, expected):
    async with demo() as session:
        found = await search_products(session, query)
    assert expected in [item.title for item in found.items]


@pytest.mark.parametrize("query", ["", "   ", "!!!", "🙂🙂", "\"' OR 1=1 --", "x" * 5000])
async def test_search_of_nonsense_finds_nothing_and_does_not_fail(demo, query):
    async with demo() as session:
        found = await search_products(session, query)
    assert found.total == 0


async def test_search_sees_a_renamed_product(demo):
    async with demo() as session, session.begin():
        await session.execute(
            update(Product)
            .where(Product.title == "Плед «Северное сияние»")
            .values(title="Одеяло", description="Тёплое")
        )
    async with demo() as session:
        assert (await search_products(session, "плед")).total == 0
        assert (await search_products(session, "одеяло")).total == 1


async def test_product_card_has_variants_and_photo(demo):
    async with demo() as session:
        found = await search_products(session, "Байкал")
        product = await get_product(session, found.items[0].id)
    assert [v.label for v in product.variants][:2] == ["S, белая", "M, белая"]
    assert len(product.photos) == 1
