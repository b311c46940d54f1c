"""What the ledger remembers: each row's reported statuses, and an order's rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.models import Payment
from shop.models.types import utcnow


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


async def payments_of(session: AsyncSession, order_id: int) -> list[Payment]:
    """The ledger of one order, oldest first (for staff screens)."""
    query = select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    return list((await session.execute(query)).scalars())
