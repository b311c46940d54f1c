"""Locking an order for a payment service, and the check that it still waits for its money.

Lock order, everywhere: the order row, then its payment, then its refund (PostgreSQL
``FOR UPDATE``; SQLite's BEGIN IMMEDIATE serializes writers anyway), so concurrent
confirmations, refunds and expiry queue up instead of deadlocking.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shop.errors import ShopError
from shop.models import Order, OrderStatus, PaymentProvider


async def lock_order(
    session: AsyncSession,
    order_id: int,
    customer_id: int | None = None,
    *,
    with_lines: bool = False,
    lock: bool = True,
) -> Order:
    """The order, freshly read and locked; with ``customer_id``, only if it is theirs."""
    query = select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    if with_lines:
        query = query.options(selectinload(Order.lines))
    if lock:
        query = query.with_for_update(of=Order)
    order = (await session.execute(query)).scalar_one_or_none()
    if order is None:
        raise ShopError("not_available")
    return order


def check_payable(order: Order, now: datetime) -> None:
    """Refuse an order that is not waiting for a payment, or whose reservation ran out."""
    if order.status != OrderStatus.AWAITING_PAYMENT or order.payment_method == PaymentProvider.CASH:
        raise ShopError("not_awaiting_payment", order_id=order.id, status=order.status)
    if order.reserved_until is not None and order.reserved_until <= now:
        raise ShopError("reservation_expired", order_id=order.id)
