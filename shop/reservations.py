"""Letting go of stock held by orders nobody paid for in time (called by the scheduler)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop.errors import ShopError
from shop.models import Order, OrderStatus
from shop.models.types import utcnow
from shop.orders import RESERVING, transition

BATCH = 100


async def expire_unpaid_orders(
    sessions: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> list[int]:
    """Cancel every unpaid order past its ``reserved_until``; return their ids.

    Each order is cancelled in its own transaction, so one failure does not hold back the rest
    and a payment that lands at the same moment wins or loses cleanly (conditional UPDATE).
    """
    now = now or utcnow()
    async with sessions() as session:
        due = list(
            (
                await session.execute(
                    select(Order.id)
                    .where(Order.status.in_(list(RESERVING)), Order.reserved_until < now)
                    .order_by(Order.id)
                    .limit(BATCH)
                )
            ).scalars()
        )
    expired = []
    for order_id in due:
        async with sessions() as session, session.begin():
            try:
                await transition(
                    session,
                    order_id,
                    OrderStatus.CANCELLED,
                    actor="system",
                    note="reservation_expired",
                )
            except ShopError:  # paid or cancelled meanwhile
                continue
        expired.append(order_id)
    return expired
