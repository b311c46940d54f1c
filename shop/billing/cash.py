"""Cash on delivery, where the delivery method allows it: the order is assembled unpaid.

The ledger gets a ``cash`` row, pending until the courier brings the money.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop.billing.history import history_entry
from shop.billing.locks import check_payable, lock_order
from shop.errors import ShopError
from shop.models import (
    DeliveryMethod,
    OrderEventKind,
    OrderStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
)
from shop.models.types import utcnow
from shop.orders import transition

S = OrderStatus
P = PaymentStatus


async def choose_cash_on_delivery(
    sessions: async_sessionmaker[AsyncSession],
    order_id: int,
    customer_id: int,
    *,
    now: datetime | None = None,
) -> None:
    """Pay in cash on delivery: the order goes to assembling, keeping its stock.

    Allowed only for the customer's own unpaid, still reserved order whose delivery method
    takes cash. Choosing it again changes nothing.
    """
    async with sessions() as session, session.begin():
        await take_cash_on_delivery(session, order_id, customer_id, now=now)


async def take_cash_on_delivery(
    session: AsyncSession, order_id: int, customer_id: int, *, now: datetime | None = None
) -> None:
    """`choose_cash_on_delivery` inside the caller's transaction (the conversation's)."""
    order = await lock_order(session, order_id, customer_id)
    if order.payment_method == PaymentProvider.CASH and order.status == S.ASSEMBLING:
        return
    check_payable(order, now or utcnow())
    method = (
        await session.get(DeliveryMethod, order.delivery_method_id)
        if order.delivery_method_id is not None
        else None
    )
    if method is None or not method.cash_on_delivery:
        raise ShopError("cash_not_available", order_id=order.id)
    actor = f"customer:{customer_id}"
    await transition(
        session,
        order.id,
        S.ASSEMBLING,
        actor=actor,
        kind=OrderEventKind.CASH_ON_DELIVERY,
        values={"payment_method": PaymentProvider.CASH},
    )
    session.add(
        Payment(
            order_id=order.id,
            provider=PaymentProvider.CASH,
            amount=order.total,
            status=P.PENDING,
            refunded_amount=0,
            history=[history_entry(P.PENDING, actor, order.total)],
        )
    )
