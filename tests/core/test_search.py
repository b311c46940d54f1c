"""Search as a shopper types: typos, colours, sizes, English words, relevance then stock.

Every case runs on SQLite and PostgreSQL and expects the same answer from both.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from shop.catalog import search_products
from shop.models import Product, Variant
from shop.search import matching_products
from shop.search_query import TITLE

BAIKAL = "Футболка «Байкал»"
NORTH = "Футболка оверсайз «Север»"
HEDGEHOG = "Футболка детская «Ёжик»"
MUG = "Кружка керамическая «Утро»"
SNEAKERS = "Кеды «Старт»"
HOODIE = "Худи «Тайга»"


async def titles(sessions, query: str) -> list[str]:
    async with sessions() as session:
        found = await search_products(session, query, per_page=50)
    return [item.title for item in found.items]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("футбока", BAIKAL),  # a letter missed
        ("фудболка", BAIKAL),  # a letter wrong
        ("кеды стрт", SNEAKERS),
        ("кружка керамичесая", MUG),
        ("рбкзак", "Рюкзак городской «Метро»"),
        ("термокружкаа", "Термокружка «Дорога»"),
    ],
)
async def test_a_typo_finds_what_was_meant(demo, query, first):
    found = await titles(demo, query)
    assert found and found[0] == first, found


async def test_a_typo_finds_every_product_with_the_word(demo):
    assert await titles(demo, "футбока") == [BAIKAL, NORTH, HEDGEHOG]


async def test_a_word_found_nowhere_is_dropped_but_nonsense_alone_finds_nothing(demo):
    assert await titles(demo, "кружка пожалуйста") == [MUG]
    assert await titles(demo, "кружка ы 7") == [MUG]
    assert await titles(demo, "zzzzqqq") == []
    assert await titles(demo, "пожалуйста") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("кружка синяя", [MUG]),
        ("кружку синюю", [MUG]),
        ("синяя", [MUG]),
        ("кеды белые", [SNEAKERS]),
        ("худи зеленое", [HOODIE]),
        ("чёрный рюкзак", ["Рюкзак городской «Метро»"]),
    ],
)
async def test_colours_of_variants_are_found(demo, query, expected):
    assert await titles(demo, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("футболка M", [BAIKAL, NORTH]),
        ("футболка м", [BAIKAL, NORTH]),  # a Russian М for the size
        ("футболка XL", [NORTH]),
        ("футболка хл", [NORTH]),
        ("футболка 110", [HEDGEHOG]),
        ("кеды 42", [SNEAKERS]),
        ("худи L", [HOODIE]),
    ],
)
async def test_sizes_of_variants_are_found(demo, query, expected):
    assert await titles(demo, query) == expected


async def test_a_hidden_variant_is_not_found_by_its_colour(demo):
    async with demo() as session, session.begin():
        await session.execute(update(Variant).where(Variant.colour == "синяя").values(hidden=True))
    assert await titles(demo, "кружка синяя") == [MUG]  # "синяя" is found nowhere now
    assert await titles(demo, "синяя") == []


async def test_a_new_or_removed_colour_is_found_at_once(demo):
    async with demo() as session, session.begin():
        mug = await session.scalar(select(Product.id).where(Product.title == MUG))
        session.add(Variant(product_id=mug, sku="MUG-LILAC", colour="лиловая", price=69000))
    assert await titles(demo, "кружка лиловая") == [MUG]
    async with demo() as session, session.begin():
        await session.execute(delete(Variant).where(Variant.sku == "MUG-LILAC"))
    assert await titles(demo, "лиловая") == []
    assert await titles(demo, "лиловя") == []  # nor as the fix of a typo


async def test_english_words_find_english_titles_and_descriptions(demo):
    async with demo() as session, session.begin():
        await session.execute(
            update(Product)
            .where(Product.title == MUG)
            .values(title_en="Morning mug", description_en="Ceramic, dishwasher safe.")
        )
        await session.execute(
            update(Product)
            .where(Product.title == HOODIE)
            .values(title_en="Taiga hoodie", description_en="A warm fleece-lined hoodie.")
        )
    assert await titles(demo, "morning") == [MUG]
    assert await titles(demo, "hoodies") == [HOODIE]
    assert await titles(demo, "warm hoodie") == [HOODIE]
    assert await titles(demo, "dishwasher") == [MUG]
    assert await titles(demo, "hoodye") == [HOODIE]  # a typo in English too


async def test_a_title_match_comes_before_a_description_match(demo):
    async with demo() as session, session.begin():
        await session.execute(
            update(Product)
            .where(Product.title == "Шопер «Эко»")
            .values(description="Влезет даже кружка с термосом.")
        )
    assert await titles(demo, "кружка") == [MUG, "Шопер «Эко»"]


async def test_relevance_comes_before_stock_and_stock_among_equals(demo):
    async with demo() as session, session.begin():
        baikal = select(Product.id).where(Product.title == BAIKAL).scalar_subquery()
        await session.execute(update(Variant).where(Variant.product_id == baikal).values(stock=0))
        mug = select(Product.id).where(Product.title == MUG).scalar_subquery()
        await session.execute(update(Variant).where(Variant.product_id == mug).values(stock=0))
        await session.execute(
            update(Product)
            .where(Product.title == "Шопер «Эко»")
            .values(description="Влезет даже кружка с термосом.")
        )
    assert await titles(demo, "футболка") == [NORTH, HEDGEHOG, BAIKAL]
    assert await titles(demo, "кружка") == [MUG, "Шопер «Эко»"]  # sold out, yet the title


async def test_more_matches_than_are_ranked_keep_the_title_matches(demo):
    """Past the ranked number of products, those with every word in the title come first."""
    async with demo() as session, session.begin():
        await session.execute(
            update(Product)
            .where(Product.title == "Шопер «Эко»")  # listed before the mug
            .values(description="Влезет даже кружка с термосом.")
        )
    async with demo() as session:
        mug = await session.scalar(select(Product.id).where(Product.title == MUG))
        first = await matching_products(session, "кружка", limit=1)
        both = await matching_products(session, "кружка", limit=2)
    assert first == [(mug, TITLE)]
    assert both[0] == (mug, TITLE) and len(both) == 2
