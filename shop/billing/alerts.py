"""Staff alerts about money that needs a person: written to the outbox in the same transaction."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shop import outbox
from shop.models import Payment

log = logging.getLogger("shop.billing")

STAFF = outbox.MODERATORS
"""Outbox recipient of staff alerts (kind ``staff_alert``): the moderator chat."""


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
