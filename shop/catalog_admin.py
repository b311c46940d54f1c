"""The owner's quick catalog edits by SKU: price, stock, hidden; and finding SKUs.

Each edit is one conditional statement (never read-then-write for stock) and one audit row
in the caller's transaction. Orders keep their own price snapshot, so a price change never
alters an order already placed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop import audit
from shop.accounts import AccountRef
from shop.errors import ShopError
from shop.models import (
    Category,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    ProductPhoto,
    Variant,
)
from shop.search import matching_products

MAX_PRICE = 100_000_000_00
"""A hundred million roubles, in kopecks: anything above is a typo."""
MAX_STOCK = 1_000_000
FIND_LIMIT = 15
_PRICE = re.compile(r"(\d{1,9})(?:[.,](\d{1,2}))?")
_STOCK = re.compile(r"([+=-])?\s*(\d{1,7})")


def parse_price(text: str) -> int | None:
    """Roubles as typed (``1990``, ``1 990``, ``1990.50``, ``1990,5``) in kopecks, or None."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "").removesuffix("₽")
    match = _PRICE.fullmatch(cleaned)
    if match is None:
        return None
    roubles, kopecks = match.groups()
    value = int(roubles) * 100 + int((kopecks or "0").ljust(2, "0"))
    return value if 0 < value <= MAX_PRICE else None


@dataclass(frozen=True)
class StockChange:
    """``+5`` / ``-2`` move the stock by that much; ``=10`` (or ``10``) sets it."""

    amount: int
    relative: bool


def parse_stock(text: str) -> StockChange | None:
    match = _STOCK.fullmatch(text.strip())
    if match is None:
        return None
    sign, digits = match.groups()
    amount = int(digits)
    if sign in ("+", "-"):
        return StockChange(-amount if sign == "-" else amount, relative=True)
    return StockChange(amount, relative=False) if amount <= MAX_STOCK else None


@dataclass(frozen=True)
class Found:
    """A SKU as the owner's search lists it."""

    product_id: int
    title: str
    sku: str
    label: str
    price: int
    stock: int
    hidden: bool


async def _variant(session: AsyncSession, sku: str) -> Variant:
    variant = await session.scalar(select(Variant).where(Variant.sku == sku.strip()))
    if variant is None:
        raise ShopError("admin_no_sku", sku=sku.strip()[:64])
    return variant


async def set_price(session: AsyncSession, actor: AccountRef, sku: str, price: int) -> int:
    """Give the SKU a new price; returns the old one."""
    variant = await _variant(session, sku)
    before = variant.price
    variant.price = price
    await session.flush()
    await audit.record(
        session, actor, "price", f"variant:{variant.sku}", {"price": before}, {"price": price}
    )
    return before


async def change_stock(
    session: AsyncSession, actor: AccountRef, sku: str, change: StockChange
) -> tuple[int, int]:
    """Move or set the SKU's stock in one conditional UPDATE; (before, after).

    A move below zero is refused (``admin_stock_negative``); a concurrent sale in between
    is counted, never overwritten, for a relative move.
    """
    variant = await _variant(session, sku)
    if change.relative:
        new_value = Variant.stock + change.amount
        guard = [Variant.stock + change.amount >= 0, Variant.stock + change.amount <= MAX_STOCK]
    else:
        new_value = change.amount  # type: ignore[assignment]
        guard = []
    row = (
        await session.execute(
            update(Variant)
            .where(Variant.id == variant.id, *guard)
            .values(stock=new_value)
            .returning(Variant.stock)
            .execution_options(synchronize_session=False)
        )
    ).first()
    await session.refresh(variant, ["stock"])
    if row is None:
        raise ShopError("admin_stock_negative", sku=variant.sku, stock=variant.stock)
    after = row[0]
    before = after - change.amount if change.relative else None
    await audit.record(
        session,
        actor,
        "stock",
        f"variant:{variant.sku}",
        {"stock": before} if before is not None else None,
        {"stock": after, "change": f"{change.amount:+d}" if change.relative else "="},
    )
    return (before if before is not None else -1), after


async def set_hidden(session: AsyncSession, actor: AccountRef, sku: str, hidden: bool) -> bool:
    """Hide or show one SKU (a product whose every SKU is hidden disappears); False when it
    already was so."""
    variant = await _variant(session, sku)
    if variant.hidden == hidden:
        return False
    variant.hidden = hidden
    product = await session.get(Product, variant.product_id)
    if product is not None and not hidden and product.hidden:
        product.hidden = False  # showing a SKU of a hidden product shows the product
    await session.flush()
    await audit.record(
        session,
        actor,
        "hide" if hidden else "show",
        f"variant:{variant.sku}",
        {"hidden": not hidden},
        {"hidden": hidden},
    )
    return True


async def find(session: AsyncSession, text: str, limit: int = FIND_LIMIT) -> list[Found]:
    """SKUs whose SKU contains ``text`` or whose product the search finds, hidden too."""
    pattern = "%" + text.strip().lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
    matches = await matching_products(session, text, limit=limit)
    product_ids = [pid for pid, _ in matches]
    rows = await session.execute(
        select(
            Product.id,
            Product.title,
            Variant.sku,
            Variant.size,
            Variant.colour,
            Variant.price,
            Variant.stock,
            or_(Variant.hidden, Product.hidden, Category.hidden),
        )
        .join(Variant, Variant.product_id == Product.id)
        .join(Category, Category.id == Product.category_id)
        .where(
            or_(
                func.lower(Variant.sku).like(pattern),
                Product.id.in_(product_ids),
            )
        )
        .order_by(Product.id, Variant.position, Variant.id)
        .limit(limit + 1)
    )
    found = []
    for pid, title, sku, size, colour, price, stock, hidden in rows:
        label = ", ".join(part for part in (size, colour) if part)
        found.append(Found(pid, title, sku, label, price, stock, bool(hidden)))
    return found


MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 10
_IMAGE_TYPES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def image_type(data: bytes) -> str | None:
    """The image's MIME type by its first bytes (JPEG, PNG, GIF, WebP), else None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _IMAGE_TYPES.items() if data.startswith(magic)), None)


async def add_photo(session: AsyncSession, actor: AccountRef, sku: str, data: bytes) -> int:
    """Add a photo to the product of ``sku`` (after its others); the product's photo count."""
    variant = await _variant(session, sku)
    kind = image_type(data)
    if kind is None or len(data) > MAX_PHOTO_BYTES:
        raise ShopError("admin_bad_photo")
    count = await session.scalar(
        select(func.count()).where(ProductPhoto.product_id == variant.product_id)
    )
    if (count or 0) >= MAX_PHOTOS:
        raise ShopError("admin_too_many_photos", limit=MAX_PHOTOS)
    photo = ProductPhoto(
        product_id=variant.product_id, position=count or 0, content_type=kind, data=data
    )
    session.add(photo)
    await session.flush()
    await audit.record(
        session,
        actor,
        "photo",
        f"product:{variant.product_id}",
        None,
        {"photo": photo.id, "bytes": len(data), "sku": variant.sku},
    )
    return (count or 0) + 1


OPEN_ORDERS = (
    OrderStatus.NEW,
    OrderStatus.AWAITING_PAYMENT,
    OrderStatus.PAID,
    OrderStatus.ASSEMBLING,
    OrderStatus.SHIPPED,
)
"""Orders still being sold, paid for or delivered: a product they hold is hidden, not deleted."""


async def delete_product(session: AsyncSession, actor: AccountRef, sku: str) -> bool:
    """Delete the product of ``sku`` with its SKUs and photos; True when deleted.

    When an open order holds one of its SKUs it is hidden instead (False). Orders closed
    since keep their own copy of titles and prices.
    """
    variant = await _variant(session, sku)
    product = await session.get(Product, variant.product_id)
    assert product is not None
    held = await session.scalar(
        select(func.count())
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .where(Variant.product_id == product.id, Order.status.in_(OPEN_ORDERS))
    )
    subject = f"product:{product.id}"
    if held:
        was_hidden = product.hidden
        product.hidden = True
        await session.flush()
        await audit.record(
            session, actor, "hide", subject, {"hidden": was_hidden}, {"hidden": True}
        )
        return False
    before = {"title": product.title, "skus": [v.sku for v in await _skus(session, product.id)]}
    await session.execute(delete(Variant).where(Variant.product_id == product.id))
    await session.execute(delete(Product).where(Product.id == product.id))
    session.expunge(product)
    await audit.record(session, actor, "delete", subject, before, None)
    return True


async def _skus(session: AsyncSession, product_id: int) -> list[Variant]:
    return list(await session.scalars(select(Variant).where(Variant.product_id == product_id)))


PRODUCT_TEXTS = {"title": 200, "title_en": 200, "description": 4000, "description_en": 4000}
VARIANT_TEXTS = {"size": 32, "colour": 32}
EDITABLE = (*PRODUCT_TEXTS, *VARIANT_TEXTS, "category")


async def edit_field(
    session: AsyncSession, actor: AccountRef, sku: str, name: str, value: str
) -> None:
    """Change one field of a SKU (size, colour) or of its product (texts, category id).

    A title must not be empty; English texts, size and colour may be ("-" clears them).
    """
    variant = await _variant(session, sku)
    product = await session.get(Product, variant.product_id)
    assert product is not None
    value = value.strip()
    clear = value == "-"
    new_value: int | str | None
    if name == "category":
        if not value.isdigit() or await session.get(Category, int(value[:9])) is None:
            raise ShopError("category_unknown", id=value[:12])
        target: object = product
        field, new_value = "category_id", int(value)
    elif name in PRODUCT_TEXTS or name in VARIANT_TEXTS:
        limit = PRODUCT_TEXTS.get(name) or VARIANT_TEXTS[name]
        text = "" if clear else value if name.startswith("description") else " ".join(value.split())
        if len(text) > limit or (name == "title" and not text):
            raise ShopError("admin_bad_text", limit=limit)
        target = product if name in PRODUCT_TEXTS else variant
        field = name
        new_value = (text or None) if name in VARIANT_TEXTS else text
    else:
        raise ShopError("admin_bad_field")
    before = getattr(target, field)
    setattr(target, field, new_value)
    await session.flush()
    subject = f"product:{product.id}" if target is product else f"variant:{variant.sku}"
    await audit.record(session, actor, "edit", subject, {field: before}, {field: new_value})
