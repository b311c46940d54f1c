"""Creating a product from the owner's dialog: its texts, category and SKUs in one go.

SKUs are checked all together (format, price, stock, not taken) before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop import audit, csv_catalog
from shop.accounts import AccountRef
from shop.catalog_admin import PRODUCT_TEXTS, VARIANT_TEXTS
from shop.errors import ShopError
from shop.models import Category, Product, Variant

MAX_VARIANTS = 30


@dataclass(frozen=True)
class NewVariant:
    sku: str
    size: str
    colour: str
    price: int
    stock: int


def parse_variants(text: str) -> tuple[list[NewVariant], list[tuple[int, str]]]:
    """Lines ``SKU; size; colour; price; stock`` -> variants, and (line, reason) for bad ones."""
    variants: list[NewVariant] = []
    bad: list[tuple[int, str]] = []
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines or len(lines) > MAX_VARIANTS:
        return [], [(0, "count")]
    for number, line in enumerate(lines, start=1):
        cells = [cell.strip() for cell in line.split(";")]
        if len(cells) != 5:
            bad.append((number, "cells"))
            continue
        sku, size, colour, price_text, stock_text = cells
        price = csv_catalog.parse_price(price_text)
        if not csv_catalog.is_sku(sku):
            bad.append((number, "sku"))
        elif price is None:
            bad.append((number, "price"))
        elif not stock_text.isdigit() or int(stock_text) > csv_catalog.MAX_STOCK:
            bad.append((number, "stock"))
        elif len(size) > VARIANT_TEXTS["size"] or len(colour) > VARIANT_TEXTS["colour"]:
            bad.append((number, "long"))
        elif any(v.sku == sku for v in variants):
            bad.append((number, "repeated"))
        else:
            variants.append(NewVariant(sku, size, colour, price, int(stock_text)))
    return variants, bad


async def taken_skus(session: AsyncSession, skus: list[str]) -> list[str]:
    return list(await session.scalars(select(Variant.sku).where(Variant.sku.in_(skus))))


def clean_text(name: str, text: str) -> str:
    value = text.strip() if name.startswith("description") else " ".join(text.split())
    if len(value) > PRODUCT_TEXTS[name] or (name == "title" and not value):
        raise ShopError("admin_bad_text", limit=PRODUCT_TEXTS[name])
    return value


async def create_product(
    session: AsyncSession,
    actor: AccountRef,
    category_id: int,
    texts: dict[str, str],
    variants: list[NewVariant],
) -> int:
    """Write the product and its SKUs; its id. The SKUs must be free (else admin_sku_taken)."""
    if await session.get(Category, category_id) is None:
        raise ShopError("category_unknown", id=category_id)
    taken = await taken_skus(session, [v.sku for v in variants])
    if taken:
        raise ShopError("admin_sku_taken", skus=", ".join(taken))
    product = Product(category_id=category_id, **{k: clean_text(k, v) for k, v in texts.items()})
    session.add(product)
    await session.flush()
    await session.execute(
        insert(Variant),
        [
            {
                "product_id": product.id,
                "sku": v.sku,
                "size": v.size or None,
                "colour": v.colour or None,
                "price": v.price,
                "stock": v.stock,
                "position": position,
            }
            for position, v in enumerate(variants)
        ],
    )
    await audit.record(
        session,
        actor,
        "product_add",
        f"product:{product.id}",
        None,
        {"title": product.title, "skus": [v.sku for v in variants]},
    )
    return product.id
