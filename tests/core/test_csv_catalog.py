"""The catalog CSV: reading an upload whole, planning it against the shop, applying it, and an
export that reads back as no change. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop import csv_catalog
from shop.errors import ShopError
from shop.models import Category, Product, Variant

HEADER = "sku;category;title;title_en;description;description_en;size;colour;price;stock;hidden\n"


def test_reading_reports_every_bad_line_with_its_number_and_reason():
    data = (
        HEADER
        + "A-1;Одежда;Майка;;;;M;;1990;5;0\n"
        + "A-2;Одежда;Майка;;;;L;;abc;5;0\n"
        + "A-3;Одежда;Майка;;;;XL;;1990;-1;0\n"
        + "A-1;Одежда;Майка;;;;S;;1990;1;0\n"
        + "A 4;Одежда;Майка;;;;S;;1990;1;0\n"
        + "A-5;Одежда;;;;;S;;1990;1;0\n"
        + "A-6;Одежда\n"
    ).encode()
    rows, bad = csv_catalog.read_upload(data)
    assert [row.sku for row in rows] == ["A-1"]
    assert [(b.line, b.reason) for b in bad] == [
        (3, "bad_price"),
        (4, "bad_stock"),
        (5, "duplicate_sku"),
        (6, "bad_sku"),
        (7, "no_title"),
        (8, "cell_count"),
    ]


def test_prices_with_kopecks_windows_1251_and_commas():
    text = (
        'sku,category,title,price,stock\nB-1,Дом / Кухня,Кружка,"1990,50",3\nB-2,Дом,Ложка,10.5,0\n'
    )
    rows, bad = csv_catalog.read_upload(text.encode("cp1251"))
    assert bad == []
    assert [(r.sku, r.category, r.price, r.stock) for r in rows] == [
        ("B-1", "Дом / Кухня", 199050, 3),
        ("B-2", "Дом", 1050, 0),
    ]
    rows, _ = csv_catalog.read_upload(b"\xef\xbb\xbf" + text.encode())
    assert rows[0].title == "Кружка"


def test_unknown_columns_and_a_file_too_big_are_refused_whole():
    _, bad = csv_catalog.read_upload(b"sku;name;price\nA;b;1\n")
    assert [(b.line, b.reason, b.detail) for b in bad] == [(1, "unknown_columns", "name")]
    with pytest.raises(ShopError) as refused:
        csv_catalog.read_upload(b"x" * (csv_catalog.MAX_BYTES + 1))
    assert refused.value.code == "csv_too_big"


async def test_export_reads_back_as_no_change(demo):
    async with demo() as session:
        data = await csv_catalog.export(session)
        rows, bad = csv_catalog.read_upload(data)
        planned = await csv_catalog.plan(session, rows)
    assert bad == [] and planned.bad == []
    assert (len(planned.new), len(planned.changed)) == (0, 0)
    assert planned.unchanged == len(rows) > 20


async def test_formulas_are_exported_harmless_and_read_back_intact(demo):
    async with demo() as session, session.begin():
        product = await session.scalar(select(Product).order_by(Product.id).limit(1))
        product.title = "=cmd|' /C calc'!A0"
        product.description = "@SUM(1+1)"
    async with demo() as session:
        data = await csv_catalog.export(session)
        assert b";'=cmd|" in data and b";'@SUM" in data
        planned = await csv_catalog.plan(session, csv_catalog.read_upload(data)[0])
    assert (len(planned.new), len(planned.changed)) == (0, 0)


async def test_apply_adds_products_with_variants_changes_prices_and_new_categories(demo):
    upload = (
        HEADER + "DEMO-001-00;Одежда / Футболки;Футболка «Байкал»;;"
        "Хлопок 100%, плотность 180 г/м². Принт с видом на Байкал.;;S;белая;1590;7;0\n"
        + "NEW-1;Сад / Инструмент;Лейка;Watering can;Пластик;;5 л;зелёная;799,90;4;0\n"
        + "NEW-2;Сад / Инструмент;Лейка;Watering can;Пластик;;10 л;зелёная;999;2;0\n"
        + "NEW-3;Сад / Инструмент;Лейка;Watering can;Металл;;12 л;;999;2;0\n"
    ).encode()
    rows, bad = csv_catalog.read_upload(upload)
    assert bad == []
    async with demo() as session:
        planned = await csv_catalog.plan(session, rows)
    assert [(b.line, b.reason, b.detail) for b in planned.bad] == [(5, "product_differs", "3")]

    rows = rows[:3]
    async with demo() as session, session.begin():
        planned = await csv_catalog.plan(session, rows)
        assert planned.bad == [] and planned.new_categories == ["Сад", "Сад / Инструмент"]
        assert [c.fields for c in planned.changed] == [{"price": (149000, 159000), "stock": (5, 7)}]
        await csv_catalog.apply(session, planned)
    async with demo() as session:
        can = await session.scalar(select(Product).where(Product.title == "Лейка"))
        assert can is not None and can.title_en == "Watering can"
        variants = (
            await session.execute(
                select(Variant.sku, Variant.size, Variant.price, Variant.stock)
                .where(Variant.product_id == can.id)
                .order_by(Variant.sku)
            )
        ).all()
        assert variants == [("NEW-1", "5 л", 79990, 4), ("NEW-2", "10 л", 99900, 2)]
        category = await session.get(Category, can.category_id)
        assert category.title == "Инструмент"
        assert (await session.get(Category, category.parent_id)).title == "Сад"
        again = await csv_catalog.plan(session, rows)
        assert (len(again.new), len(again.changed), again.unchanged) == (0, 0, 3)
        assert await session.scalar(select(func.count()).select_from(Product)) > 10
