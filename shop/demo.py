"""A small, believable demo shop loaded on the first start of an empty database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.models import Category, DeliveryMethod, Product, ProductPhoto, Variant
from shop.placeholder import placeholder_png

RUB = 100

# (category, parent, [(title, description, photo colour, [(size, colour, RUB, stock)])])
CATALOG: list[tuple[str, str | None, list[tuple[str, str, tuple[int, int, int], list[Any]]]]] = [
    ("Одежда", None, []),
    (
        "Футболки",
        "Одежда",
        [
            (
                "Футболка «Байкал»",
                "Хлопок 100%, плотность 180 г/м². Принт с видом на Байкал.",
                (40, 90, 160),
                [
                    ("S", "белая", 1490, 5),
                    ("M", "белая", 1490, 8),
                    ("L", "белая", 1490, 0),
                    ("M", "чёрная", 1590, 4),
                    ("L", "чёрная", 1590, 3),
                ],
            ),
            (
                "Футболка оверсайз «Север»",
                "Свободный крой, хлопок с лайкрой. Unisex.",
                (70, 70, 80),
                [("M", "серая", 1990, 6), ("L", "серая", 1990, 2), ("XL", "серая", 1990, 0)],
            ),
            (
                "Футболка детская «Ёжик»",
                "Мягкий хлопок, весёлый принт. Для детей 4–8 лет.",
                (230, 150, 60),
                [("110", None, 890, 10), ("122", None, 890, 7)],
            ),
        ],
    ),
    (
        "Худи и свитшоты",
        "Одежда",
        [
            (
                "Худи «Тайга»",
                "Тёплое худи с начёсом, капюшон на шнурке, карман-кенгуру.",
                (40, 110, 60),
                [("M", "зелёное", 3990, 4), ("L", "зелёное", 3990, 3), ("XL", "зелёное", 3990, 1)],
            ),
            (
                "Свитшот «Город»",
                "Классический свитшот без капюшона, футер трёхнитка.",
                (120, 120, 130),
                [("S", "графит", 2990, 0), ("M", "графит", 2990, 0)],
            ),
        ],
    ),
    (
        "Обувь",
        None,
        [
            (
                "Кеды «Старт»",
                "Парусиновые кеды на резиновой подошве. Classic canvas sneakers.",
                (200, 200, 200),
                [
                    ("38", "белые", 3490, 2),
                    ("40", "белые", 3490, 5),
                    ("42", "белые", 3490, 4),
                    ("42", "чёрные", 3490, 0),
                ],
            ),
            (
                "Тапочки домашние «Облако»",
                "Мягкие тапочки из флиса, нескользящая подошва.",
                (180, 160, 220),
                [("36–38", None, 990, 12), ("39–41", None, 990, 9)],
            ),
            (
                "Резиновые сапоги «Дождь»",
                "Непромокаемые сапоги для города и дачи.",
                (200, 60, 60),
                [("37", "красные", 2490, 0), ("39", "красные", 2490, 0)],
            ),
        ],
    ),
    (
        "Аксессуары",
        None,
        [
            (
                "Шапка вязаная «Уют»",
                "Шерсть 50%, акрил 50%. Универсальный размер.",
                (150, 40, 50),
                [(None, "бордовая", 1290, 15), (None, "серая", 1290, 6)],
            ),
            (
                "Шопер «Эко»",
                "Холщовая сумка-шопер, выдерживает до 10 кг. Canvas tote bag.",
                (210, 190, 150),
                [(None, None, 790, 30)],
            ),
            (
                "Рюкзак городской «Метро»",
                '20 литров, отделение для ноутбука 15", водоотталкивающая ткань.',
                (30, 30, 40),
                [(None, "чёрный", 4990, 3)],
            ),
            (
                "Носки «Весёлые» (3 пары)",
                "Хлопковые носки с яркими узорами, набор из трёх пар.",
                (250, 200, 40),
                [("36–40", None, 590, 20), ("41–45", None, 590, 14)],
            ),
            (
                "Зонт складной «Капля»",
                "Автоматический зонт, 8 спиц, чехол в комплекте.",
                (50, 80, 140),
                [(None, None, 1890, 0)],
            ),
        ],
    ),
    (
        "Дом и кухня",
        None,
        [
            (
                "Кружка керамическая «Утро»",
                "Объём 350 мл, можно в посудомойку и микроволновку. Ceramic mug.",
                (240, 230, 210),
                [(None, "белая", 690, 25), (None, "синяя", 690, 10)],
            ),
            (
                "Термокружка «Дорога»",
                "Держит тепло 6 часов, объём 450 мл, герметичная крышка.",
                (90, 90, 100),
                [(None, None, 1590, 8)],
            ),
            (
                "Плед «Северное сияние»",
                "Флисовый плед 150×200 см, мягкий и тёплый.",
                (60, 40, 120),
                [(None, None, 2490, 5)],
            ),
            (
                "Свеча ароматическая «Хвоя»",
                "Соевый воск, хлопковый фитиль, горит 30 часов.",
                (30, 100, 70),
                [(None, None, 890, 0)],
            ),
        ],
    ),
    (
        "Косметика",
        None,
        [
            (
                "Крем для рук «Облепиха»",
                "Питательный крем с маслом облепихи, 75 мл.",
                (240, 140, 30),
                [(None, None, 390, 40)],
            ),
            (
                "Бальзам для губ «Мёд»",
                "С пчелиным воском и мёдом, 5 г.",
                (220, 170, 60),
                [(None, None, 290, 0)],
            ),
            (
                "Мыло ручной работы «Лаванда»",
                "Натуральное мыло с маслом лаванды, 100 г. Handmade soap.",
                (150, 120, 200),
                [(None, None, 450, 18)],
            ),
        ],
    ),
]

DELIVERY = [
    ("pickup", "Самовывоз из магазина", "Pickup from the store", 0, False, True),
    ("courier", "Курьер по городу", "Courier in the city", 350 * RUB, True, False),
    ("post", "Почта России", "Russian Post", 290 * RUB, True, True),
]


def _sku(product_index: int, variant_index: int) -> str:
    return f"DEMO-{product_index:03d}-{variant_index:02d}"


async def catalog_is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(Category))


async def load_demo_catalog(session: AsyncSession) -> bool:
    """Fill an empty catalog with the demo shop; return False (and do nothing) otherwise."""
    if not await catalog_is_empty(session):
        return False
    categories: dict[str, Category] = {}
    product_index = 0
    for position, (title, parent, products) in enumerate(CATALOG):
        category = Category(title=title, position=position, parent=categories.get(parent or ""))
        categories[title] = category
        session.add(category)
        for product_position, (name, description, rgb, variants) in enumerate(products):
            product_index += 1
            product = Product(
                title=name, description=description, category=category, position=product_position
            )
            product.photos = [ProductPhoto(data=placeholder_png(rgb))]
            product.variants = [
                Variant(
                    sku=_sku(product_index, i),
                    size=size,
                    colour=colour,
                    price=price * RUB,
                    stock=stock,
                    position=i,
                )
                for i, (size, colour, price, stock) in enumerate(variants)
            ]
            session.add(product)
    for position, (code, title, title_en, price, needs_address, cod) in enumerate(DELIVERY):
        session.add(
            DeliveryMethod(
                code=code,
                title=title,
                title_en=title_en,
                price=price,
                needs_address=needs_address,
                cash_on_delivery=cod,
                position=position,
            )
        )
    await session.flush()
    return True
