"""Shared steps of the payment services: locking, history entries, staff alerts.

Lock order, everywhere: the order row, then its payment, then its refund (PostgreSQL
``FOR UPDATE``; SQLite's BEGIN IMMEDIATE serializes writers anyway), so concurrent
confirmations, refunds and expiry queue up instead of deadlocking.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shop import outbox
from shop.errors import ShopError
from shop.models import Order, OrderStatus, Payment, PaymentProvider
from shop.models.types import utcnow

log = logging.getLogger("shop.billing")

SYSTEM = "system"
"""Actor of what the shop does by itself (e.g. giving back money an order cannot take)."""
STAFF = outbox.MODERATORS
"""Outbox recipient of staff alerts (kind ``staff_alert``): the moderator chat."""


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


def history_entry(
    status: str, source: str, amount: int | None = None, *, note: str | None = None
) -> dict[str, Any]:
    """One element of a ledger row's ``history``: what was reported, when and by whom."""
    entry: dict[str, Any] = {"at": utcnow().isoformat(), "status": str(status), "source": source}
    if amount is not None:
        entry["amount"] = amount
    if note:
        entry["note"] = note
    return entry


def alert_staff(session: AsyncSession, reason: str, payment: Payment, **facts: Any) -> None:
    """Tell the moderator chat about money that needs a person (in this transaction)."""
    log.warning("staff alert %s: order %s, payment %s", reason, payment.order_id, payment.id)
    outbox.enqueue(
        session,
        "staff_alert",
        {
            "reason": reason,
            "order_id": payment.order_id,
            "payment_id": payment.id,
            "provider": str(payment.provider),
            "amount": payment.amount,
            **facts,
        },
        recipient=STAFF,
    )


async def payments_of(session: AsyncSession, order_id: int) -> list[Payment]:
    """The ledger of one order, oldest first (for staff screens)."""
    query = select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    return list((await session.execute(query)).scalars())
