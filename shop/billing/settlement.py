"""Confirming payments: a status the provider's API reported moves the order exactly once.

Only what the API says counts (`sync_payment` re-reads it; a webhook body is never
trusted). A payment's status only moves forward, so replays and out-of-order reports
change nothing. Money the order cannot take (it was cancelled, is already paid, or its
stock is gone after expiry) is given back automatically, and staff are told.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop import outbox, stock
from shop.billing.alerts import alert_staff
from shop.billing.gateway import PaymentGateway
from shop.billing.history import history_entry
from shop.billing.locks import lock_order
from shop.billing.refunds import execute_refund, queue_whole_refund
from shop.models import (
    Order,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
)
from shop.orders import transition

log = logging.getLogger("shop.billing")

S = OrderStatus
K = OrderEventKind
P = PaymentStatus
_RANK = {P.CREATING: 0, P.PENDING: 1, P.WAITING_FOR_CAPTURE: 2}
_FINAL = frozenset({P.SUCCEEDED, P.CANCELED, P.FAILED})


class Outcome(StrEnum):
    PAID = "paid"
    """This report moved the order to paid."""
    LATE_PAID = "late_paid"
    """Paid after the reservation expired; the stock was reserved again."""
    REFUNDING = "refunding"
    """Paid, but the order cannot take it: a refund is queued and staff are alerted."""
    RECORDED = "recorded"
    """The ledger took a new status; the order is unchanged."""
    UNCHANGED = "unchanged"
    """A replay, or a stale (out-of-order) report."""
    AMOUNT_MISMATCH = "amount_mismatch"
    """Succeeded for another amount than asked: recorded, the order is not paid, staff alerted."""
    UNKNOWN = "unknown"
    """No such payment in the ledger."""


@dataclass(frozen=True)
class Settlement:
    outcome: Outcome
    order_id: int | None = None
    refund_id: int | None = None


async def confirm_payment(
    sessions: async_sessionmaker[AsyncSession],
    provider: PaymentProvider | str,
    provider_payment_id: str,
    status: PaymentStatus | None,
    amount: int,
    source: str,
    *,
    attempt_id: int | None = None,
) -> Settlement:
    """Record a status the provider's API reported; on success move the order to paid once.

    Call it only with what the API said (`sync_payment` re-reads it), never with a webhook
    body. Replays and stale reports change nothing; ``attempt_id`` (from the payment's
    metadata) binds a payment whose create answer was lost to its ledger row.
    """
    provider = PaymentProvider(provider)
    async with sessions() as session, session.begin():
        payment = await find_payment(session, provider, provider_payment_id, attempt_id)
        if payment is None:
            log.warning("%s payment %s is not in the ledger", provider, provider_payment_id)
            return Settlement(Outcome.UNKNOWN)
        await lock_order(session, payment.order_id)
        payment = await session.get(
            Payment, payment.id, with_for_update=True, populate_existing=True
        )
        assert payment is not None
        if payment.provider_payment_id is None:
            payment.provider_payment_id = provider_payment_id
        elif payment.provider_payment_id != provider_payment_id:
            log.error(
                "attempt %s is bound to another payment than %s", payment.id, provider_payment_id
            )
            return Settlement(Outcome.UNKNOWN)
        return await apply_status(session, payment, status, amount, source)


async def sync_payment(
    sessions: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    provider_payment_id: str,
    source: str,
) -> Settlement:
    """Re-read a payment from the provider's API and confirm what it says.

    Used for webhooks (whose body is never trusted) and polling. A refund queued because the
    order could not take the money is sent at once.
    """
    found = await gateway.get_payment(provider_payment_id)
    if found is None:
        log.warning("%s has no payment %s", gateway.provider, provider_payment_id)
        return Settlement(Outcome.UNKNOWN)
    settlement = await confirm_payment(
        sessions,
        gateway.provider,
        found.id,
        found.status,
        found.amount,
        source,
        attempt_id=found.attempt_id,
    )
    if settlement.refund_id is not None:
        await execute_refund(sessions, gateway, settlement.refund_id)
    return settlement


async def find_payment(
    session: AsyncSession,
    provider: PaymentProvider,
    provider_payment_id: str,
    attempt_id: int | None,
) -> Payment | None:
    """The ledger row of a provider payment; else the attempt it was made for, if unbound."""
    by_id = select(Payment).where(
        Payment.provider == provider, Payment.provider_payment_id == provider_payment_id
    )
    payment = (await session.execute(by_id)).scalar_one_or_none()
    if payment is None and attempt_id is not None:
        unbound = select(Payment).where(
            Payment.id == attempt_id,
            Payment.provider == provider,
            Payment.provider_payment_id.is_(None),
        )
        payment = (await session.execute(unbound)).scalar_one_or_none()
    return payment


async def apply_status(
    session: AsyncSession, payment: Payment, status: PaymentStatus | None, amount: int, source: str
) -> Settlement:
    """Move a locked ledger row forward; success settles the order in this transaction.

    The caller holds the order's lock (then the payment's) and passes what the provider said,
    in the core's statuses (None: one the gateway could not map).
    """
    if status is None:
        log.warning("payment %s: a status the core does not know, from %s", payment.id, source)
        return Settlement(Outcome.UNCHANGED, payment.order_id)
    reported = PaymentStatus(status)
    current = PaymentStatus(payment.status)
    if reported == current:
        return Settlement(Outcome.UNCHANGED, payment.order_id)
    if current in _FINAL or _RANK.get(reported, 99) < _RANK[current]:
        payment.history = [*payment.history, history_entry(reported, source, amount, note="stale")]
        return Settlement(Outcome.UNCHANGED, payment.order_id)
    payment.status = reported
    payment.history = [*payment.history, history_entry(reported, source, amount)]
    if reported == P.CANCELED:
        await _tell_declined(session, payment)
    if reported != P.SUCCEEDED:
        return Settlement(Outcome.RECORDED, payment.order_id)
    if amount != payment.amount:
        alert_staff(session, "amount_mismatch", payment, reported_amount=amount)
        return Settlement(Outcome.AMOUNT_MISMATCH, payment.order_id)
    return await _settle_success(session, payment)


async def _settle_success(session: AsyncSession, payment: Payment) -> Settlement:
    """Pay the order with this payment, or keep it after expiry, or give the money back."""
    order = await session.get(Order, payment.order_id)
    assert order is not None
    actor = f"payment:{payment.provider}"
    if order.status == S.AWAITING_PAYMENT and order.payment_method != PaymentProvider.CASH:
        await transition(session, order.id, S.PAID, actor=actor, kind=K.PAID)
        order.payment_method = payment.provider
        return Settlement(Outcome.PAID, order.id)
    if order.status == S.CANCELLED and await _expired(session, order.id):
        if await stock.reserve_again(session, order):
            await transition(
                session,
                order.id,
                S.PAID,
                actor=actor,
                kind=K.LATE_PAID,
                values={"payment_method": payment.provider},
            )
            return Settlement(Outcome.LATE_PAID, order.id)
        reason = "late_payment_out_of_stock"
    elif order.status == S.CANCELLED:
        reason = "order_cancelled"
    else:
        reason = "duplicate_payment"
    refund = await queue_whole_refund(session, order, payment, reason)
    alert_staff(session, reason, payment, refund_id=refund.id, order_status=order.status)
    return Settlement(Outcome.REFUNDING, order.id, refund.id)


async def _tell_declined(session: AsyncSession, payment: Payment) -> None:
    """A declined or cancelled payment of an order still waiting for it: the shopper hears
    it (the bot promised to write when the payment goes through) with a way to try again."""
    order = await session.get(Order, payment.order_id)
    if order is None or order.status != S.AWAITING_PAYMENT:
        return
    outbox.enqueue(
        session,
        "payment_declined",
        {"order_id": order.id, "payment_id": payment.id},
        customer_id=order.customer_id,
    )


async def _expired(session: AsyncSession, order_id: int) -> bool:
    """Whether the order was cancelled because its reservation ran out (not by a person)."""
    kind = await session.scalar(
        select(OrderEvent.kind)
        .where(OrderEvent.order_id == order_id, OrderEvent.to_status == S.CANCELLED)
        .order_by(OrderEvent.id.desc())
        .limit(1)
    )
    return kind == K.EXPIRED
