"""Placing an order from the cart: reserve every line atomically, snapshot prices, clear the cart.

The units are taken by `shop.stock.reserve` (all or nothing; OutOfStock lists every short
line, and nothing is kept, so a caller that shows it and commits loses no stock). One
shopper's unpaid orders are capped (shop.reservations.check_hold_limits).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop import promo, stock
from shop.cart import get_cart
from shop.errors import ShopError
from shop.models import (
    CartLine,
    DeliveryMethod,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderStatus,
)
from shop.models.types import utcnow
from shop.reservations import HoldLimits, check_hold_limits, line_title, lock_shopper


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    address: str | None = None
    comment: str | None = None
    email: str | None = None
    """Where to send the fiscal receipt; without it the receipt goes to the phone."""


async def active_delivery_methods(session: AsyncSession) -> list[DeliveryMethod]:
    query = (
        select(DeliveryMethod)
        .where(DeliveryMethod.active.is_(True))
        .order_by(DeliveryMethod.position, DeliveryMethod.id)
    )
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class PlacedOrder:
    """What the shopper is told right after ordering."""

    id: int
    items_total: int
    delivery_price: int
    total: int
    reserved_until: datetime
    discount: int = 0
    """Taken off the items by the customer's promo code (shop.promo)."""


async def _delivery_method(session: AsyncSession, method_id: int) -> tuple[int, str, int, bool]:
    row = (
        await session.execute(
            select(
                DeliveryMethod.id,
                DeliveryMethod.title,
                DeliveryMethod.price,
                DeliveryMethod.needs_address,
            ).where(DeliveryMethod.id == method_id, DeliveryMethod.active.is_(True))
        )
    ).first()
    if row is None:
        raise ShopError("not_available")
    return row[0], row[1], row[2], row[3]


async def place_order(
    session: AsyncSession,
    customer_id: int,
    *,
    channel: str,
    delivery_method_id: int,
    contact: Contact,
    reservation_minutes: int,
    limits: HoldLimits = HoldLimits(),
    now: datetime | None = None,
) -> PlacedOrder:
    """Turn the customer's cart into an order awaiting payment, holding its stock.

    Refused (HoldLimitReached) when the customer would hold more unpaid than ``limits``
    allow. Written with Core statements: checkout is the hottest write path (see
    bench/checkout.py).
    """
    now = now or utcnow()
    method_id, method_title, delivery_price, needs_address = await _delivery_method(
        session, delivery_method_id
    )
    if needs_address and not contact.address:
        raise ShopError("address_required")

    await lock_shopper(session, customer_id)  # before the cart: a second checkout sees it empty
    cart = await get_cart(session, customer_id)
    wanted = sorted(cart.items, key=lambda item: item.variant_id)  # as stock.reserve takes them
    if not wanted:
        raise ShopError("cart_empty")
    await check_hold_limits(session, customer_id, wanted, limits, now)

    taken = await stock.reserve(
        session, [stock.Wanted(item.variant_id, item.quantity, item.title) for item in wanted]
    )
    titles = {item.variant_id: line_title(item) for item in wanted}
    lines = [
        {
            "variant_id": line.variant_id,
            "title": titles[line.variant_id],
            "sku": line.sku,
            "price": line.price,
            "quantity": line.quantity,
        }
        for line in taken
    ]

    items_total = sum(line.price * line.quantity for line in taken)
    offer = await promo.offer_for(
        session, customer_id, [(line.price, line.quantity) for line in taken], now
    )
    discount = offer.discount if offer else 0
    shares = offer.per_unit if offer else (0,) * len(taken)
    for line, item, share in zip(lines, taken, shares, strict=True):
        line["discount"] = share * item.quantity
    placed = PlacedOrder(
        id=0,
        items_total=items_total,
        delivery_price=delivery_price,
        total=items_total - discount + delivery_price,
        reserved_until=now + timedelta(minutes=reservation_minutes),
        discount=discount,
    )
    order_id = await session.scalar(
        insert(Order)
        .values(
            customer_id=customer_id,
            status=OrderStatus.AWAITING_PAYMENT,
            channel=channel,
            items_total=placed.items_total,
            discount=discount,
            delivery_price=delivery_price,
            total=placed.total,
            delivery_method_id=method_id,
            delivery_title=method_title,
            recipient_name=contact.name,
            phone=contact.phone,
            address=contact.address if needs_address else None,
            comment=contact.comment,
            email=contact.email,
            stock_reserved=True,
            created_at=now,
            reserved_until=placed.reserved_until,
        )
        .returning(Order.id)
    )
    assert order_id is not None
    if offer is not None and discount:
        await promo.consume(session, offer.id, customer_id, order_id, now)
    await session.execute(insert(OrderLine), [{"order_id": order_id, **line} for line in lines])
    actor = f"customer:{customer_id}"
    await session.execute(
        insert(OrderEvent),
        [
            {
                "order_id": order_id,
                "actor": actor,
                "from_status": None,
                "to_status": OrderStatus.NEW,
                "kind": OrderEventKind.PLACED,
                "created_at": now,
                "note": None,
            },
            {
                "order_id": order_id,
                "actor": actor,
                "from_status": OrderStatus.NEW,
                "to_status": OrderStatus.AWAITING_PAYMENT,
                "kind": OrderEventKind.AWAITING_PAYMENT,
                "created_at": now,
                "note": None,
            },
        ],
    )
    await session.execute(delete(CartLine).where(CartLine.customer_id == customer_id))
    return replace(placed, id=order_id)
