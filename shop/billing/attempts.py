"""Starting online payments: one attempt row per payment, written before the provider is asked.

The attempt's idempotence key is stored first and the gateway is called outside any
transaction; if its answer is lost, the next "Pay" sends the same request with the same key
and the provider returns the payment it already made, so a shopper never pays twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop.billing.gateway import GatewayError, PaymentGateway, PaymentRequest, ProviderPayment
from shop.billing.history import history_entry
from shop.billing.locks import check_payable, lock_order
from shop.billing.receipts import receipt_for
from shop.billing.settlement import apply_status
from shop.errors import ShopError
from shop.models import Payment, PaymentProvider, PaymentStatus
from shop.models.types import utcnow

log = logging.getLogger("shop.billing")

P = PaymentStatus
OPEN_ATTEMPT = (P.CREATING, P.PENDING)
POLL_WINDOW = timedelta(days=1)
"""How long a payment still waiting for the shopper is polled (YooKassa expires them sooner)."""


async def start_payment(
    sessions: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    order_id: int,
    customer_id: int,
    return_url: str,
    *,
    now: datetime | None = None,
) -> str:
    """The link where the shopper pays for their own unpaid, still reserved order.

    A pending attempt's link is reused, so tapping "Pay" twice never makes two payments. A
    new attempt is stored with its idempotence key before the gateway is called; if the
    answer is lost, the next call sends the same request with the same key and the provider
    returns the payment it already made.
    """
    async with sessions() as session, session.begin():
        order = await lock_order(session, order_id, customer_id, with_lines=True)
        check_payable(order, now or utcnow())
        attempt = await _open_attempt(session, order.id, gateway.provider)
        if attempt is not None and attempt.status == P.PENDING and attempt.confirmation_url:
            return attempt.confirmation_url
        if attempt is None:
            attempt = Payment(
                order_id=order.id,
                provider=gateway.provider,
                amount=order.total,
                status=P.CREATING,
                idempotence_key=str(uuid.uuid4()),
                return_url=return_url,
                refunded_amount=0,
                history=[history_entry(P.CREATING, "start", order.total)],
            )
            session.add(attempt)
            await session.flush()
        request = PaymentRequest(
            order_id=order.id,
            attempt_id=attempt.id,
            amount=attempt.amount,
            description=f"Заказ №{order.id}",
            return_url=attempt.return_url or return_url,
            receipt=receipt_for(order),
            idempotence_key=attempt.idempotence_key or "",
        )
    try:
        created = await gateway.create_payment(request)
    except GatewayError as error:
        log.warning("payment for order %s not created: %s", order_id, error)
        if not error.retryable:
            await _fail_attempt(sessions, request.attempt_id, str(error))
        raise ShopError("payment_unavailable", order_id=order_id) from error
    async with sessions() as session, session.begin():
        await _record_created(session, request.attempt_id, created)
    if not created.confirmation_url:
        raise ShopError("payment_unavailable", order_id=order_id)
    return created.confirmation_url


async def _open_attempt(
    session: AsyncSession, order_id: int, provider: PaymentProvider
) -> Payment | None:
    query = (
        select(Payment)
        .where(
            Payment.order_id == order_id,
            Payment.provider == provider,
            Payment.status.in_(OPEN_ATTEMPT),
        )
        .order_by(Payment.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _fail_attempt(
    sessions: async_sessionmaker[AsyncSession], attempt_id: int, error: str
) -> None:
    """A refused create: the next tap starts a new attempt with a new key."""
    async with sessions() as session, session.begin():
        attempt = await session.get(Payment, attempt_id, with_for_update=True)
        if attempt is not None and attempt.status == P.CREATING:
            attempt.status = P.FAILED
            attempt.history = [
                *attempt.history,
                history_entry(P.FAILED, "create", note=error[:200]),
            ]


async def _record_created(session: AsyncSession, attempt_id: int, created: ProviderPayment) -> None:
    """Bind the attempt to the provider's payment and record the status it was created in."""
    payment = await session.get(Payment, attempt_id)
    if payment is None:
        return
    await lock_order(session, payment.order_id)
    payment = await session.get(Payment, attempt_id, with_for_update=True, populate_existing=True)
    assert payment is not None
    if payment.provider_payment_id is None:
        payment.provider_payment_id = created.id
    elif payment.provider_payment_id != created.id:
        log.error(
            "attempt %s got payment %s, has %s", attempt_id, created.id, payment.provider_payment_id
        )
        return
    if created.confirmation_url:
        payment.confirmation_url = created.confirmation_url
    await apply_status(session, payment, created.status, created.amount, "create")


async def pending_payments(
    session: AsyncSession,
    provider: PaymentProvider = PaymentProvider.YOOKASSA,
    *,
    now: datetime | None = None,
) -> list[str]:
    """Provider ids of recent payments still waiting for the shopper, for the poller."""
    since = (now or utcnow()) - POLL_WINDOW
    query = (
        select(Payment.provider_payment_id)
        .where(
            Payment.provider == provider,
            Payment.status.in_([P.PENDING, P.WAITING_FOR_CAPTURE]),
            Payment.provider_payment_id.is_not(None),
            Payment.created_at >= since,
        )
        .order_by(Payment.id)
        .limit(100)
    )
    return [payment_id for payment_id in (await session.execute(query)).scalars() if payment_id]
