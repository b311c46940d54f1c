"""Placing an order from the cart: reserve every line atomically, snapshot prices, clear the cart.

Stock is taken with conditional UPDATEs (``stock >= wanted``) in primary-key order, never
read-then-write, so concurrent buyers cannot oversell and never deadlock each other. If any
line is short, nothing is kept: the caller's transaction rolls back on the raised OutOfStock,
which lists every short line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.cart import CartItem, get_cart
from shop.errors import OutOfStock, ShopError, Shortage
from shop.models import CartLine, DeliveryMethod, Order, OrderLine, OrderStatus, Variant
from shop.models.types import utcnow
from shop.orders import record_event, transition


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    address: str | None = None
    comment: str | None = None


async def active_delivery_methods(session: AsyncSession) -> list[DeliveryMethod]:
    query = (
        select(DeliveryMethod)
        .where(DeliveryMethod.active.is_(True))
        .order_by(DeliveryMethod.position, DeliveryMethod.id)
    )
    return list((await session.execute(query)).scalars())


async def _delivery_method(session: AsyncSession, method_id: int) -> DeliveryMethod:
    method = await session.get(DeliveryMethod, method_id)
    if method is None or not method.active:
        raise ShopError("not_available")
    return method


async def place_order(
    session: AsyncSession,
    customer_id: int,
    *,
    channel: str,
    delivery_method_id: int,
    contact: Contact,
    reservation_minutes: int,
    now: datetime | None = None,
) -> Order:
    """Turn the customer's cart into an order awaiting payment, holding its stock."""
    now = now or utcnow()
    method = await _delivery_method(session, delivery_method_id)
    if method.needs_address and not contact.address:
        raise ShopError("address_required")

    cart = await get_cart(session, customer_id)
    if not cart.items:
        raise ShopError("cart_empty")
    wanted = sorted(cart.items, key=lambda item: item.variant_id)

    lines: list[OrderLine] = []
    for position, item in enumerate(wanted):
        reserved = await session.execute(
            update(Variant)
            .where(
                Variant.id == item.variant_id,
                Variant.stock >= item.quantity,
                Variant.hidden.is_(False),
            )
            .values(stock=Variant.stock - item.quantity)
            .returning(Variant.price, Variant.sku)
            .execution_options(synchronize_session=False)
        )
        row = reserved.first()
        if row is None or not item.available:
            raise OutOfStock(await _shortages(session, wanted[position:]))
        price, sku = row
        title = f"{item.title} ({item.variant_label})" if item.variant_label else item.title
        lines.append(
            OrderLine(
                variant_id=item.variant_id,
                title=title,
                sku=sku,
                price=price,
                quantity=item.quantity,
            )
        )

    items_total = sum(line.amount for line in lines)
    order = Order(
        customer_id=customer_id,
        status=OrderStatus.NEW,
        channel=channel,
        items_total=items_total,
        delivery_price=method.price,
        total=items_total + method.price,
        delivery_method_id=method.id,
        delivery_title=method.title,
        recipient_name=contact.name,
        phone=contact.phone,
        address=contact.address if method.needs_address else None,
        comment=contact.comment,
        stock_reserved=True,
        created_at=now,
        reserved_until=now + timedelta(minutes=reservation_minutes),
        lines=lines,
    )
    session.add(order)
    await session.flush()
    record_event(
        session, order, actor=f"customer:{customer_id}", from_status=None, to_status=OrderStatus.NEW
    )
    await session.execute(CartLine.__table__.delete().where(CartLine.customer_id == customer_id))
    await transition(
        session,
        order.id,
        OrderStatus.AWAITING_PAYMENT,
        actor=f"customer:{customer_id}",
        notify=False,
    )
    return order


async def _shortages(session: AsyncSession, items: list[CartItem]) -> list[Shortage]:
    """Every line among ``items`` that cannot be had now (the first one always is)."""
    ids = [item.variant_id for item in items]
    rows = await session.execute(
        select(Variant.id, Variant.stock, Variant.hidden).where(Variant.id.in_(ids))
    )
    stock = {vid: (0 if hidden else left) for vid, left, hidden in rows}
    short = [
        Shortage(item.variant_id, item.title, item.quantity, stock.get(item.variant_id, 0))
        for item in items
        if not item.available or stock.get(item.variant_id, 0) < item.quantity
    ]
    return short or [Shortage(items[0].variant_id, items[0].title, items[0].quantity, 0)]
