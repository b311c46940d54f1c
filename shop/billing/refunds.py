"""Refunds: money given back whole or by order lines, through the gateway, exactly once.

A refund row and its idempotence key are stored before the gateway is called; a lost
answer leaves it ``creating`` and `run_queued_refunds` sends it again with the same key.
Refunds the shop makes by itself (money an order cannot take) have the actor ``system``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop import outbox
from shop.billing.alerts import alert_staff
from shop.billing.gateway import GatewayError, PaymentGateway, RefundRequest, refund_provider
from shop.billing.history import history_entry
from shop.billing.locks import lock_order
from shop.billing.receipts import DELIVERY, receipt_for
from shop.errors import ShopError
from shop.models import (
    Order,
    OrderEventKind,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from shop.models.types import utcnow
from shop.orders import transition

log = logging.getLogger("shop.billing")

S = OrderStatus
SYSTEM = "system"
"""Actor of what the shop does by itself (giving back money an order cannot take)."""
REFUNDABLE_ORDER = frozenset({S.PAID, S.ASSEMBLING, S.SHIPPED, S.DELIVERED})
REFUND_RETRY_AFTER = timedelta(seconds=30)
_FINAL = frozenset({RefundStatus.SUCCEEDED, RefundStatus.CANCELED, RefundStatus.FAILED})
_NOT_GIVEN = [RefundStatus.FAILED, RefundStatus.CANCELED]


@dataclass(frozen=True)
class RefundResult:
    refund_id: int
    amount: int
    status: RefundStatus
    order_status: OrderStatus


async def refund_order(
    sessions: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    order_id: int,
    actor: str,
    lines: dict[int, int] | None = None,
    *,
    reason: str | None = None,
) -> RefundResult:
    """Give money back for an order paid online: all that is left, or ``lines`` (id -> qty).

    The refund row and its idempotence key are stored before the gateway is called; when
    the whole payment is given back the order becomes refunded (and the customer is told).
    The caller checks the actor's role.
    """
    async with sessions() as session, session.begin():
        refund = await queue_refund(session, order_id, actor, lines, reason=reason)
        refund_id, amount = refund.id, refund.amount
    status = await execute_refund(sessions, gateway, refund_id)
    async with sessions() as session:
        current = await session.scalar(select(Order.status).where(Order.id == order_id))
    assert current is not None  # the order the refund belongs to
    return RefundResult(refund_id, amount, status, OrderStatus(current))


async def queue_refund(
    session: AsyncSession,
    order_id: int,
    actor: str,
    lines: dict[int, int] | None = None,
    *,
    reason: str | None = None,
) -> Refund:
    """Store a refund (`refund_order`'s first half) in the caller's transaction; the caller
    sends it with `execute_refund` after committing (or `run_queued_refunds` does)."""
    order = await lock_order(session, order_id, with_lines=True)
    if order.status not in REFUNDABLE_ORDER:
        raise ShopError("not_refundable", order_id=order_id, status=order.status)
    payment = await _refundable_payment(session, order.id)
    if payment is None:
        raise ShopError("nothing_to_refund", order_id=order_id)
    left = await _left_to_refund(session, order, payment)
    if lines is None:
        wanted = {key: qty for key, qty in left.items() if qty}
    else:
        wanted = {str(line_id): qty for line_id, qty in lines.items() if qty}
        if any(qty < 0 or qty > left.get(key, 0) for key, qty in wanted.items()):
            raise ShopError("refund_too_much", order_id=order_id)
    amount = receipt_for(order, wanted).total if wanted else 0
    if amount <= 0:
        raise ShopError("nothing_to_refund", order_id=order_id)
    refund = _new_refund(session, payment, amount, wanted, actor, reason)
    await session.flush()
    return refund


async def execute_refund(
    sessions: async_sessionmaker[AsyncSession], gateway: PaymentGateway, refund_id: int
) -> RefundStatus:
    """Send a stored refund to the provider (again, with its key, if the answer was lost)."""
    async with sessions() as session:
        refund = await session.get(Refund, refund_id)
        if refund is None or refund.status != RefundStatus.CREATING:
            return RefundStatus(refund.status) if refund else RefundStatus.FAILED
        payment = await session.get(Payment, refund.payment_id)
        order = await lock_order(session, refund.order_id, with_lines=True, lock=False)
        assert payment is not None
        request = RefundRequest(
            provider_payment_id=_refund_target(payment),
            refund_id=refund.id,
            amount=refund.amount,
            description=f"Возврат по заказу №{order.id}",
            receipt=receipt_for(order, refund.lines),
            idempotence_key=refund.idempotence_key,
        )
    try:
        made = await gateway.create_refund(request)
    except GatewayError as error:
        log.warning("refund %s not made: %s", refund_id, error)
        if error.retryable:
            return RefundStatus.CREATING
        async with sessions() as session, session.begin():
            return await _apply_refund(
                session, refund_id, None, RefundStatus.FAILED, "create", str(error)
            )
    async with sessions() as session, session.begin():
        return await _apply_refund(session, refund_id, made.id, made.status, "create")


async def sync_refund(
    sessions: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    provider_refund_id: str,
    source: str,
) -> RefundStatus | None:
    """Re-read a refund from the provider's API and record its status (webhooks, polling)."""
    found = await gateway.get_refund(provider_refund_id)
    if found is None:
        return None
    async with sessions() as session, session.begin():
        refund_id = await session.scalar(
            select(Refund.id).where(
                Refund.provider == gateway.provider, Refund.provider_refund_id == found.id
            )
        )
        if refund_id is None and found.refund_id is not None:
            refund_id = await session.scalar(
                select(Refund.id).where(
                    Refund.id == found.refund_id, Refund.provider_refund_id.is_(None)
                )
            )
        if refund_id is None:
            log.warning("%s refund %s is not in the ledger", gateway.provider, found.id)
            return None
        return await _apply_refund(session, refund_id, found.id, found.status, source)


async def run_queued_refunds(
    sessions: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    *,
    now: datetime | None = None,
) -> list[int]:
    """Send refunds still waiting for the provider's answer (lost answers, late payments)."""
    before = (now or utcnow()) - REFUND_RETRY_AFTER
    async with sessions() as session:
        queued = list(
            (
                await session.execute(
                    select(Refund.id)
                    .where(
                        Refund.provider == gateway.provider,
                        Refund.status == RefundStatus.CREATING,
                        Refund.created_at <= before,
                    )
                    .order_by(Refund.id)
                    .limit(50)
                )
            ).scalars()
        )
    for refund_id in queued:
        await execute_refund(sessions, gateway, refund_id)
    return queued


async def _apply_refund(
    session: AsyncSession,
    refund_id: int,
    provider_refund_id: str | None,
    status: RefundStatus | None,
    source: str,
    note: str | None = None,
) -> RefundStatus:
    """Record a refund's status (order, payment, refund locked in that order); apply success."""
    order_id = await session.scalar(select(Refund.order_id).where(Refund.id == refund_id))
    assert order_id is not None
    order = await lock_order(session, order_id)
    refund = await session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
    assert refund is not None
    if refund.provider_refund_id is None and provider_refund_id is not None:
        refund.provider_refund_id = provider_refund_id
    if status is None:  # a status the gateway could not map: nothing to record
        return RefundStatus(refund.status)
    reported = RefundStatus(status)
    if reported == refund.status or refund.status in _FINAL:
        return RefundStatus(refund.status)
    refund.status = reported
    refund.history = [*refund.history, history_entry(reported, source, refund.amount, note=note)]
    payment = await session.get(
        Payment, refund.payment_id, with_for_update=True, populate_existing=True
    )
    assert payment is not None
    if reported in (RefundStatus.CANCELED, RefundStatus.FAILED):
        alert_staff(session, "refund_failed", payment, refund_id=refund.id, error=note)
    elif reported == RefundStatus.SUCCEEDED:
        payment.refunded_amount += refund.amount
        whole = payment.refunded_amount >= payment.amount
        if whole and order.status in REFUNDABLE_ORDER and await _paid_by(session, payment.id):
            await transition(
                session,
                order.id,
                S.REFUNDED,
                actor=refund.actor,
                kind=OrderEventKind.REFUNDED,
                note=refund.reason,
            )
        else:
            outbox.enqueue(
                session,
                "refund",
                {"order_id": order.id, "amount": refund.amount, "reason": refund.reason},
                customer_id=order.customer_id,
            )
    return reported


async def _paid_by(session: AsyncSession, payment_id: int) -> bool:
    """Whether the payment is what paid its order, not one the system is giving back.

    A payment the order could not take gets a refund by ``system`` the moment it succeeds;
    the one that paid the order never does.
    """
    given_back = await session.scalar(
        select(func.count())
        .select_from(Refund)
        .where(Refund.payment_id == payment_id, Refund.actor == SYSTEM)
    )
    return not given_back


async def _refundable_payment(session: AsyncSession, order_id: int) -> Payment | None:
    """The succeeded online payment of the order that still has money left to give back."""
    payments = (
        await session.execute(
            select(Payment)
            .where(
                Payment.order_id == order_id,
                Payment.status == PaymentStatus.SUCCEEDED,
                Payment.provider != PaymentProvider.CASH,
            )
            .order_by(Payment.id)
            .with_for_update()
        )
    ).scalars()
    for payment in payments:
        kept = await _paid_by(session, payment.id)
        if kept and await _in_refunds(session, payment.id) < payment.amount:
            return payment
    return None


async def _in_refunds(session: AsyncSession, payment_id: int) -> int:
    """Money given back or on its way back for a payment."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment_id,
            Refund.status.not_in(_NOT_GIVEN),
        )
    )
    return int(total or 0)


async def _left_to_refund(session: AsyncSession, order: Order, payment: Payment) -> dict[str, int]:
    """Per order line (and ``delivery``), what has not yet been given back for ``payment``."""
    left = {str(line.id): line.quantity for line in order.lines}
    left[DELIVERY] = 1 if order.delivery_price else 0
    refunds = (
        await session.execute(
            select(Refund.lines).where(
                Refund.payment_id == payment.id,
                Refund.status.not_in(_NOT_GIVEN),
            )
        )
    ).scalars()
    for done in refunds:
        for key, qty in done.items():
            left[key] = left.get(key, 0) - int(qty)
    return left


async def queue_whole_refund(
    session: AsyncSession, order: Order, payment: Payment, reason: str
) -> Refund:
    """Give back a payment the order cannot take (sent by `execute_refund` or the poller)."""
    rows = await session.execute(
        select(OrderLine.id, OrderLine.quantity).where(OrderLine.order_id == order.id)
    )
    lines = {str(line_id): quantity for line_id, quantity in rows}
    lines[DELIVERY] = 1
    refund = _new_refund(session, payment, payment.amount, lines, SYSTEM, reason)
    await session.flush()
    return refund


def _new_refund(
    session: AsyncSession,
    payment: Payment,
    amount: int,
    lines: dict[str, int],
    actor: str,
    reason: str | None,
) -> Refund:
    refund = Refund(
        payment_id=payment.id,
        order_id=payment.order_id,
        provider=refund_provider(PaymentProvider(payment.provider)),
        amount=amount,
        status=RefundStatus.CREATING,
        idempotence_key=str(uuid.uuid4()),
        lines=lines,
        actor=actor,
        reason=reason,
        history=[history_entry(RefundStatus.CREATING, actor, amount)],
    )
    session.add(refund)
    return refund


def _refund_target(payment: Payment) -> str:
    """The provider's payment id to refund: Telegram's provider charge id is YooKassa's id."""
    if payment.provider == PaymentProvider.TELEGRAM:
        return payment.provider_charge_id or ""
    return payment.provider_payment_id or ""


async def pending_refunds(
    session: AsyncSession, provider: PaymentProvider = PaymentProvider.YOOKASSA
) -> list[str]:
    """Provider ids of refunds the provider has not finished yet."""
    query = (
        select(Refund.provider_refund_id)
        .where(
            Refund.provider == provider,
            Refund.status == RefundStatus.PENDING,
            Refund.provider_refund_id.is_not(None),
        )
        .order_by(Refund.id)
        .limit(100)
    )
    return [refund_id for refund_id in (await session.execute(query)).scalars() if refund_id]
