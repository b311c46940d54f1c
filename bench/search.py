"""Search latency at 1,000, 10,000 and 100,000 products, on SQLite and PostgreSQL.

    python -m bench.search [--sizes 1000,10000,100000] [--queries 300] [--only sqlite|postgresql]

A generated catalog with believable Russian titles (a kind, a word, a name: "Кружка
керамическая «Утро»"), English titles for half of the products, descriptions with article
codes (so the vocabulary a typo is looked up in is a real shop's size), and 1–4 variants each
with sizes and colours (a fifth of them sold out) grows to each size in turn. At each size
the database settles as a running one would (VACUUM ANALYZE; FTS5 optimize), one round of
the queries warms up (caches, the SQLite vocabulary), then the measured round runs them one
after another, each in its own session as a shopper's message is: product words, colours,
sizes, English words, and typo'd words (a third of the queries).
Printed: p50, p95 and max of shop.catalog.search_products (first page, counts included),
and the p95 of a bare ``SELECT 1`` session beside it (what the database costs at all).
Targets at 100,000 products: p95 under 20 ms on PostgreSQL, under 50 ms on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import time
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.common import fresh_database
from shop.catalog import search_products
from shop.db import create_engine, create_session_factory
from shop.models import Category, Product, Variant

# kind (Russian), kind (English), sizes, category
KINDS = [
    ("Футболка", "T-shirt", ["XS", "S", "M", "L", "XL", "XXL"], "Одежда"),
    ("Худи", "Hoodie", ["S", "M", "L", "XL"], "Одежда"),
    ("Свитшот", "Sweatshirt", ["S", "M", "L", "XL"], "Одежда"),
    ("Рубашка", "Shirt", ["S", "M", "L", "XL"], "Одежда"),
    ("Платье", "Dress", ["42", "44", "46", "48"], "Одежда"),
    ("Джинсы", "Jeans", ["28", "30", "32", "34"], "Одежда"),
    ("Куртка", "Jacket", ["S", "M", "L", "XL"], "Одежда"),
    ("Кеды", "Sneakers", ["37", "38", "39", "40", "41", "42", "43"], "Обувь"),
    ("Кроссовки", "Trainers", ["38", "39", "40", "41", "42", "43", "44"], "Обувь"),
    ("Ботинки", "Boots", ["38", "40", "42", "44"], "Обувь"),
    ("Тапочки", "Slippers", ["36–38", "39–41", "42–44"], "Обувь"),
    ("Шапка", "Beanie", [""], "Аксессуары"),
    ("Шарф", "Scarf", [""], "Аксессуары"),
    ("Рюкзак", "Backpack", [""], "Аксессуары"),
    ("Сумка", "Bag", [""], "Аксессуары"),
    ("Носки", "Socks", ["36–40", "41–45"], "Аксессуары"),
    ("Зонт", "Umbrella", [""], "Аксессуары"),
    ("Кружка", "Mug", [""], "Дом и кухня"),
    ("Термокружка", "Travel mug", [""], "Дом и кухня"),
    ("Плед", "Blanket", [""], "Дом и кухня"),
    ("Подушка", "Pillow", [""], "Дом и кухня"),
    ("Свеча", "Candle", [""], "Дом и кухня"),
    ("Тарелка", "Plate", [""], "Дом и кухня"),
    ("Крем", "Cream", [""], "Косметика"),
    ("Мыло", "Soap", [""], "Косметика"),
    ("Бальзам", "Balm", [""], "Косметика"),
]
WORDS = [
    ("классическая", "classic"),
    ("оверсайз", "oversize"),
    ("детская", "kids"),
    ("хлопковая", "cotton"),
    ("шерстяная", "wool"),
    ("керамическая", "ceramic"),
    ("городская", "city"),
    ("тёплая", "warm"),
    ("лёгкая", "light"),
    ("спортивная", "sport"),
    ("домашняя", "home"),
    ("дорожная", "travel"),
    ("базовая", "basic"),
    ("праздничная", "festive"),
    ("летняя", "summer"),
    ("зимняя", "winter"),
]
NAMES = [
    "Байкал", "Север", "Ёжик", "Тайга", "Город", "Старт", "Облако", "Дождь", "Уют", "Эко",
    "Метро", "Весна", "Капля", "Утро", "Дорога", "Сияние", "Хвоя", "Облепиха", "Мёд",
    "Лаванда", "Алтай", "Волга", "Кедр", "Ветер", "Полюс", "Маяк", "Пристань", "Заря",
    "Рассвет", "Иней", "Клюква", "Малина", "Сосна", "Берёза", "Ладога", "Онега", "Камчатка",
    "Урал", "Енисей", "Амур", "Нева", "Карелия", "Селигер", "Эльбрус", "Таймыр", "Ямал",
]  # fmt: skip
COLOURS = [
    "белый", "чёрный", "серый", "синий", "красный", "зелёный", "бежевый", "бордовый",
    "голубой", "жёлтый", "розовый", "графит", "хаки", "оливковый",
]  # fmt: skip
MATERIALS = ["хлопок", "шерсть", "лён", "флис", "керамика", "кожа", "полиэстер", "бамбук"]
TEMPLATES = [
    "{material} высокого качества, {adjective} модель. Коллекция «{name}». Артикул {code}.",
    "Удобная вещь на каждый день: {material}, аккуратные швы, {adjective} крой. Арт. {code}",
    "Сделано в России. Материал: {material}. Подходит для подарка. Артикул {code}.",
]
QUERIES = [
    "футболка", "кружка", "худи", "кеды", "рюкзак", "плед", "свеча", "носки", "шапка", "крем",
    "кружка синяя", "футболка черная", "кеды белые", "худи серое", "шапка бордовая",
    "футболка M", "худи XL", "кеды 42", "джинсы 32", "футболка детская S",
    "mug", "hoodie", "sneakers", "travel mug", "warm blanket",
    "байкал", "старт", "плед облако", "крем облепиха", "свеча хвоя",
]  # fmt: skip
TYPOS = [
    "футбока", "кеды стрт", "кружк синяя", "рюкзк", "худи тайгга", "свича", "тапочки облако",
    "кросовки", "платъе", "термокружкаа", "носки весна", "шапка уют", "бальзам мед",
    "hodie", "snekers",
]  # fmt: skip


def product_rows(
    start: int, count: int, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Products ``start``..``start+count-1`` (ids given) and their variants."""
    rng = random.Random(seed)
    products: list[dict[str, Any]] = []
    variants: list[dict[str, Any]] = []
    categories = {title: i for i, title in enumerate(dict.fromkeys(k[3] for k in KINDS), 1)}
    for product_id in range(start, start + count):
        kind, kind_en, sizes, category = rng.choice(KINDS)
        word, word_en = rng.choice(WORDS)
        name = rng.choice(NAMES)
        english = rng.random() < 0.5
        products.append(
            {
                "id": product_id,
                "category_id": categories[category],
                "title": f"{kind} {word} «{name}»",
                "title_en": f"{kind_en} {word_en} “{name}”" if english else "",
                "description": rng.choice(TEMPLATES).format(
                    material=rng.choice(MATERIALS).capitalize(),
                    adjective=word,
                    name=name,
                    code=f"{kind[:2].upper()}{rng.randint(1000, 99999)}",
                ),
                "description_en": f"A {word_en} {kind_en.lower()}, made in Russia."
                if english
                else "",
                "hidden": False,
                "position": product_id,
            }
        )
        colours = rng.sample(COLOURS, rng.randint(1, 2))
        chosen = rng.sample(sizes, min(len(sizes), rng.randint(1, 2)))
        for n, (size, colour) in enumerate((s, c) for s in chosen for c in colours):
            variants.append(
                {
                    "product_id": product_id,
                    "sku": f"B-{product_id}-{n}",
                    "size": size or None,
                    "colour": colour,
                    "price": rng.randint(3, 60) * 10_000,
                    "stock": 0 if rng.random() < 0.2 else rng.randint(1, 30),
                    "hidden": False,
                    "position": n,
                }
            )
    return products, variants


async def add_categories(sessions: async_sessionmaker[AsyncSession]) -> None:
    titles = dict.fromkeys(k[3] for k in KINDS)
    async with sessions() as session, session.begin():
        await session.execute(
            insert(Category),
            [
                {"id": i, "title": t, "position": i, "hidden": False}
                for i, t in enumerate(titles, 1)
            ],
        )


async def grow(sessions: async_sessionmaker[AsyncSession], have: int, want: int) -> float:
    """Add products until there are ``want``; returns the seconds it took (triggers included)."""
    started = time.perf_counter()
    chunk = 2_000
    for start in range(have + 1, want + 1, chunk):
        count = min(chunk, want + 1 - start)
        products, variants = product_rows(start, count, seed=start)
        async with sessions() as session, session.begin():
            await session.execute(insert(Product), products)
            await session.execute(insert(Variant), variants)
    return time.perf_counter() - started


async def settle(engine: AsyncEngine) -> None:
    """What a running shop's database does on its own after a bulk load: PostgreSQL's
    autovacuum clears the row versions the search triggers left, FTS5 merges its segments."""
    if engine.dialect.name == "sqlite":
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO product_fts(product_fts) VALUES('optimize')")
            )
            await connection.execute(text("ANALYZE"))
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE"))


async def measure(sessions: async_sessionmaker[AsyncSession], queries: list[str]) -> list[float]:
    timings = []
    for query in queries:
        started = time.perf_counter()
        async with sessions() as session:
            await search_products(session, query)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def round_trip(sessions: async_sessionmaker[AsyncSession], count: int) -> list[float]:
    """The floor under every figure: a session that runs ``SELECT 1`` (a loaded server
    or machine shows here first)."""
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def workload(count: int) -> list[str]:
    """``count`` queries, a third of them typo'd, in a fixed shuffled order."""
    rng = random.Random(7)
    return [rng.choice(TYPOS) if i % 3 == 2 else rng.choice(QUERIES) for i in range(count)]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def bench(kind: str, sizes: list[int], queries: int) -> None:
    async with fresh_database(kind) as url:
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        await add_categories(sessions)
        have = 0
        for size in sizes:
            loaded = await grow(sessions, have, size)
            await settle(engine)
            have = size
            load = workload(queries)
            await measure(sessions, load)  # warm-up round
            timings = await measure(sessions, load)
            floor = await round_trip(sessions, queries)
            print(
                f"| {kind:10} | {size:>7,} | {statistics.median(timings):6.1f} | "
                f"{p95(timings):6.1f} | {max(timings):6.1f} | {p95(floor):6.1f} | "
                f"{loaded:6.1f} s |",
                flush=True,
            )
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    print(f"search_products, {args.queries} queries a size (a third typo'd), latency in ms")
    print("| database   | products |    p50 |    p95 |    max | SELECT 1 p95 | catalog load |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in [args.only] if args.only else ["sqlite", "postgresql"]:
        await bench(kind, sizes, args.queries)


if __name__ == "__main__":
    asyncio.run(main())
