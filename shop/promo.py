"""Compensation promo codes: issued by staff to one customer, applied at their next checkout.

A code is bound to its customer and used once. Checkout offers the customer's own usable
code by itself (the one expiring first), so the shopper types nothing; a typed ``/promo CODE``
only says whether that code is theirs and usable. The checkout transaction consumes it with
a conditional UPDATE (``used_at IS NULL``), so two checkouts at once cannot both use it; an
order cancelled unpaid (by the shopper or by expiry) gives the code back; a late payment of
that order takes it again if it is still free (and keeps its discount either way: the order
snapshot is what was agreed).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shop import audit, outbox
from shop.accounts import AccountRef
from shop.discounts import per_unit, wanted_discount
from shop.errors import ShopError
from shop.models import PromoCode
from shop.models.types import utcnow

log = logging.getLogger(__name__)

PREFIX = "SORRY-"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Letters and digits a person reads and types without mixing them up (no 0/O, 1/I/L)."""
LENGTH = 5
MAX_AMOUNT = 100_000_00
MAX_VALIDITY = timedelta(days=366)
REASON_LIMIT = 500
NOTICE = "promo_code"
"""The outbox kind telling the shopper their code (handlers/notifications.py renders it)."""


def new_code() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text: str) -> str:
    """A typed code as stored: upper case, no spaces; ``7K3QX`` alone gets the prefix."""
    code = "".join(text.split()).upper()
    return code if code.startswith(PREFIX) else PREFIX + code


def _check_terms(
    percent: int | None, amount: int | None, expires_at: datetime, now: datetime
) -> None:
    if (percent is None) == (amount is None):
        raise ShopError("promo_bad_value")
    if percent is not None and not 1 <= percent <= 99:
        raise ShopError("promo_bad_value")
    if amount is not None and not 0 < amount <= MAX_AMOUNT:
        raise ShopError("promo_bad_value")
    if not now < expires_at <= now + MAX_VALIDITY:
        raise ShopError("promo_bad_expiry")


async def issue(
    session: AsyncSession,
    *,
    customer_id: int,
    percent: int | None = None,
    amount: int | None = None,
    expires_at: datetime,
    issued_by: AccountRef,
    reason: str,
    now: datetime | None = None,
) -> PromoCode:
    """A new one-time code for ``customer_id`` (``percent`` 1-99 or ``amount`` in kopecks),
    audit-logged and sent to the shopper through the outbox, all in the caller's transaction.

    The caller checks the actor's role (staff or owner).
    """
    now = now or utcnow()
    _check_terms(percent, amount, expires_at, now)
    reason = reason.strip()[:REASON_LIMIT]
    for _ in range(8):  # a clash of random codes is rare; a fresh one is drawn
        promo = PromoCode(
            code=new_code(),
            customer_id=customer_id,
            percent=percent,
            amount=amount,
            expires_at=expires_at,
            issued_by=str(issued_by),
            reason=reason,
            created_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(promo)
        except IntegrityError:
            if await session.scalar(select(PromoCode.id).where(PromoCode.code == promo.code)):
                continue
            raise ShopError("not_available") from None  # no such customer
        break
    else:
        raise RuntimeError("no free promo code after 8 draws")
    terms = {
        "code": promo.code,
        "percent": percent,
        "amount": amount,
        "expires_at": expires_at.isoformat(),
    }
    await audit.record(
        session,
        issued_by,
        "promo.issue",
        f"customer:{customer_id}",
        after={**terms, "reason": reason},
    )
    outbox.enqueue(session, NOTICE, {**terms, "reason": reason}, customer_id=customer_id)
    log.info("promo code %s issued to customer %s by %s", promo.code, customer_id, issued_by)
    return promo


@dataclass(frozen=True)
class Offer:
    """The code a checkout would apply now, and what it takes off these items."""

    id: int
    code: str
    percent: int | None
    amount: int | None
    expires_at: datetime
    per_unit: tuple[int, ...]
    """Each line's discount per unit, in the order the lines were given."""
    discount: int


def _usable(customer_id: int, now: datetime) -> list[object]:
    return [
        PromoCode.customer_id == customer_id,
        PromoCode.used_at.is_(None),
        PromoCode.expires_at > now,
    ]


_OFFER = (
    select(PromoCode.id, PromoCode.code, PromoCode.percent, PromoCode.amount, PromoCode.expires_at)
    .where(
        PromoCode.customer_id == bindparam("customer_id"),
        PromoCode.used_at.is_(None),
        PromoCode.expires_at > bindparam("now"),
    )
    .order_by(PromoCode.expires_at, PromoCode.id)
    .limit(1)
)
"""Built once: checkout and the cart ask it on every call (the hot path, bench/checkout.py)."""


async def offer_for(
    session: AsyncSession,
    customer_id: int,
    lines: Sequence[tuple[int, int]],
    now: datetime | None = None,
) -> Offer | None:
    """The customer's own usable code expiring first, with its discount on these lines
    (unit price, quantity): the cart shows exactly what checkout will take off."""
    params = {"customer_id": customer_id, "now": now or utcnow()}
    row = (await session.execute(_OFFER, params)).first()
    if row is None:
        return None
    items_total = sum(price * quantity for price, quantity in lines)
    units = sum(quantity for _, quantity in lines)
    wanted = wanted_discount(items_total, units, percent=row.percent, amount=row.amount)
    shares = per_unit(wanted, lines)
    discount = sum(share * quantity for share, (_, quantity) in zip(shares, lines, strict=True))
    return Offer(row.id, row.code, row.percent, row.amount, row.expires_at, tuple(shares), discount)


async def check(
    session: AsyncSession, text: str, customer_id: int, now: datetime | None = None
) -> PromoCode:
    """A typed code if this customer may use it now; else ShopError saying why, politely
    (``promo_unknown``, ``promo_not_yours``, ``promo_used``, ``promo_expired``)."""
    now = now or utcnow()
    code = normalise(text)
    promo = None
    if len(code) <= 16:
        promo = await session.scalar(select(PromoCode).where(PromoCode.code == code))
    if promo is None:
        raise ShopError("promo_unknown")
    if promo.customer_id != customer_id:
        log.warning("customer %s typed customer %s's promo code", customer_id, promo.customer_id)
        raise ShopError("promo_not_yours")
    if promo.used_at is not None:
        raise ShopError("promo_used")
    if promo.expires_at <= now:
        raise ShopError("promo_expired")
    return promo


async def consume(
    session: AsyncSession, promo_id: int, customer_id: int, order_id: int, now: datetime
) -> None:
    """Mark the code used by ``order_id``: one conditional UPDATE, so of two checkouts at once
    only one gets it; the other is refused (``promo_used``) and its transaction rolls back."""
    taken = await session.execute(
        update(PromoCode)
        .where(PromoCode.id == promo_id, *_usable(customer_id, now))  # type: ignore[arg-type]
        .values(used_at=now, order_id=order_id)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ShopError("promo_used")


async def release(session: AsyncSession, order_id: int) -> None:
    """Give back the code an order used (the order was cancelled before it was paid).

    ``order_id`` stays until another checkout takes the code, so a late payment of the
    order can take it again (`retake`).
    """
    await session.execute(
        update(PromoCode)
        .where(PromoCode.order_id == order_id, PromoCode.used_at.is_not(None))
        .values(used_at=None)
        .execution_options(synchronize_session=False)
    )


async def retake(session: AsyncSession, order_id: int, now: datetime | None = None) -> bool:
    """A cancelled order was paid late with its discount: mark its code used again.

    False when another order has taken the code since (the late order keeps its discount:
    the shopper paid what they were shown; logged for staff).
    """
    taken = await session.execute(
        update(PromoCode)
        .where(PromoCode.order_id == order_id, PromoCode.used_at.is_(None))
        .values(used_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]
