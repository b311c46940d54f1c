"""Stock moves, in one place: what a shopper may buy, taking an order's units, giving them back.

Units are taken with conditional UPDATEs (``stock >= wanted``), never read-then-write, in
variant pk order, so concurrent buyers cannot oversell and never deadlock each other. A
reservation is all or nothing: when a line is short, what was taken is given back and every
short line is reported together (OutOfStock). Used by checkout, by a late payment that takes
an expired order's units again, and by cancellation (`release`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from shop.errors import OutOfStock, Shortage
from shop.models import Category, Order, OrderLine, Product, Variant


def product_shown() -> ColumnElement[bool]:
    """A product shoppers see: it and its category not hidden (Product, Category joined)."""
    return and_(Product.hidden.is_(False), Category.hidden.is_(False))


def variant_shown() -> ColumnElement[bool]:
    """A variant shoppers see (Product and Category joined); it may be out of stock."""
    return and_(Variant.hidden.is_(False), product_shown())


def sellable(quantity: int = 1) -> ColumnElement[bool]:
    """The one rule for "a shopper can buy ``quantity`` of this variant": it is shown and
    has the stock. Self-contained (a correlated EXISTS on its product and category), so it
    also guards an UPDATE of variants."""
    product_ok = exists(
        select(Product.id)
        .join(Category, Category.id == Product.category_id)
        .where(Product.id == Variant.product_id, product_shown())
    )
    return and_(Variant.hidden.is_(False), Variant.stock >= quantity, product_ok)


@dataclass(frozen=True)
class Wanted:
    """One line to reserve; ``title`` names it in a shortage."""

    variant_id: int
    quantity: int
    title: str = ""


@dataclass(frozen=True)
class Taken:
    """A reserved line, with the price and SKU the variant had at that moment."""

    variant_id: int
    quantity: int
    price: int
    sku: str


async def reserve(session: AsyncSession, wanted: Sequence[Wanted]) -> list[Taken]:
    """Take every line's units, or none (OutOfStock lists every line that is short).

    Lines are taken in variant pk order, whatever order ``wanted`` is in.
    """
    ordered = sorted(wanted, key=lambda line: line.variant_id)
    taken: list[Taken] = []
    for position, line in enumerate(ordered):
        row = (
            await session.execute(
                update(Variant)
                .where(Variant.id == line.variant_id, sellable(line.quantity))
                .values(stock=Variant.stock - line.quantity)
                .returning(Variant.price, Variant.sku)
                .execution_options(synchronize_session=False)
            )
        ).first()
        if row is None:
            await _put_back(session, [(t.variant_id, t.quantity) for t in taken])
            raise OutOfStock(await _shortages(session, ordered[position:]))
        taken.append(Taken(line.variant_id, line.quantity, row.price, row.sku))
    return taken


async def release(session: AsyncSession, order: Order) -> bool:
    """Give an order's units back to the shelf, once (guarded by ``stock_reserved``).

    False when the order held no stock (never reserved, or already given back).
    """
    claimed = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.stock_reserved.is_(True))
        .values(stock_reserved=False)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        return False
    set_committed_value(order, "stock_reserved", False)
    await _put_back(session, await _order_lines(session, order.id))
    return True


async def reserve_again(session: AsyncSession, order: Order) -> bool:
    """Take a released order's units again, all or nothing (a payment after expiry).

    False, with nothing taken, when a line is short or its variant is gone.
    """
    if order.stock_reserved:
        return True
    lines = await _order_lines(session, order.id, with_deleted=True)
    if any(variant_id is None for variant_id, _ in lines):
        return False
    try:
        await reserve(session, [Wanted(vid, qty) for vid, qty in lines if vid is not None])
    except OutOfStock:
        return False
    await session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(stock_reserved=True)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(order, "stock_reserved", True)
    return True


async def _order_lines(
    session: AsyncSession, order_id: int, *, with_deleted: bool = False
) -> list[tuple[int | None, int]]:
    query = select(OrderLine.variant_id, OrderLine.quantity).where(OrderLine.order_id == order_id)
    if not with_deleted:
        query = query.where(OrderLine.variant_id.is_not(None))
    rows = await session.execute(query.order_by(OrderLine.variant_id))
    return [(variant_id, quantity) for variant_id, quantity in rows]


async def _put_back(session: AsyncSession, lines: Sequence[tuple[int | None, int]]) -> None:
    """Return units to the shelf, in variant pk order like every stock move."""
    for variant_id, quantity in sorted(lines, key=lambda line: line[0] or 0):
        await session.execute(
            update(Variant)
            .where(Variant.id == variant_id)
            .values(stock=Variant.stock + quantity)
            .execution_options(synchronize_session=False)
        )


async def _shortages(session: AsyncSession, lines: Sequence[Wanted]) -> list[Shortage]:
    """Every line among ``lines`` that cannot be had now (the first one always is)."""
    rows = await session.execute(
        select(Variant.id, Variant.stock).where(
            Variant.id.in_([line.variant_id for line in lines]), sellable(0)
        )
    )
    stock = {variant_id: left for variant_id, left in rows}
    short = [
        Shortage(line.variant_id, line.title, line.quantity, stock.get(line.variant_id, 0))
        for line in lines
        if stock.get(line.variant_id, 0) < line.quantity
    ]
    first = lines[0]
    return short or [Shortage(first.variant_id, first.title, first.quantity, 0)]
