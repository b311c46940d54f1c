"""Payments in the core: the ledger, confirming exactly once, late payments, refunds, cash.

Provider-neutral: a `PaymentGateway` (payments/yookassa.py) is always called outside any
transaction, with an idempotence key stored beforehand; what a provider reports is recorded
here, and only a status read from the provider's API (never a webhook body) moves an order.

Lock order, everywhere: the order row, then its payment, then its refund (PostgreSQL
``FOR UPDATE``; SQLite's BEGIN IMMEDIATE serializes writers anyway), so concurrent
confirmations, refunds and expiry queue up instead of deadlocking.

Two order moves are outside the generic transition table on purpose, each with its own
preconditions, and recorded in the history like any other:

- ``awaiting_payment -> assembling`` (note ``cash_on_delivery``): the shopper chose cash on
  delivery for a method that allows it; a generic table entry would let staff assemble any
  unpaid card order.
- ``cancelled -> paid`` (note ``late payment``): the money arrived after the reservation had
  expired; only when every line can be reserved again, all or nothing.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from shop import outbox
from shop.errors import ShopError
from shop.models import (
    DeliveryMethod,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
    Refund,
    RefundStatus,
    Variant,
)
from shop.models.types import utcnow
from shop.orders import record_event, transition

log = logging.getLogger(__name__)

S = OrderStatus
P = PaymentStatus
CURRENCY = "RUB"
SYSTEM = "system"
STAFF = "moderators"
"""Outbox recipient of staff alerts (kind ``staff_alert``): the moderator chat."""
POLL_WINDOW = timedelta(days=1)
REFUND_RETRY_AFTER = timedelta(seconds=30)
REFUNDABLE_ORDER = frozenset({S.PAID, S.ASSEMBLING, S.SHIPPED, S.DELIVERED})
OPEN_ATTEMPT = (P.CREATING, P.PENDING)
DELIVERY = "delivery"
"""Key of the delivery line in ``Refund.lines`` (the others are order line ids)."""

# A payment's status only moves forward; a report of an earlier status is stale.
_RANK = {P.CREATING: 0, P.PENDING: 1, P.WAITING_FOR_CAPTURE: 2}
_FINAL = frozenset({P.SUCCEEDED, P.CANCELED, P.FAILED})
_REFUND_FINAL = frozenset({RefundStatus.SUCCEEDED, RefundStatus.CANCELED, RefundStatus.FAILED})


# -- fiscal receipts (54-FZ) -------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLine:
    description: str
    quantity: int
    unit_price: int
    subject: str = "commodity"

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Receipt:
    """What the fiscal receipt lists; its lines always add up to the amount charged."""

    phone: str | None
    lines: tuple[ReceiptLine, ...]

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


def receipt_phone(phone: str | None) -> str | None:
    """The phone as the fiscal service wants it (digits, 7XXXXXXXXXX), or None if unusable."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    elif len(digits) == 10 and digits[0] == "9":
        digits = "7" + digits
    return digits if 10 <= len(digits) <= 15 else None


def receipt_for(order: Order, quantities: dict[str, int] | None = None) -> Receipt:
    """The receipt for the whole order, or for ``quantities`` (line id or ``delivery`` -> qty).

    ``order.lines`` must be loaded.
    """
    lines = [
        ReceiptLine(line.title[:128], qty, line.price)
        for line in order.lines
        if (qty := line.quantity if quantities is None else quantities.get(str(line.id), 0))
    ]
    with_delivery = quantities is None or quantities.get(DELIVERY)
    if with_delivery and order.delivery_price:
        lines.append(ReceiptLine(order.delivery_title[:128], 1, order.delivery_price, "service"))
    return Receipt(receipt_phone(order.phone), tuple(lines))


def rubles(kopecks: int) -> str:
    """``12345`` -> ``"123.45"``, the way payment APIs write amounts."""
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def receipt_json(receipt: Receipt, vat_code: int = 1) -> dict[str, Any]:
    """The receipt in YooKassa's JSON shape (Telegram's YooKassa provider reads the same)."""
    body: dict[str, Any] = {
        "items": [
            {
                "description": line.description,
                "quantity": f"{line.quantity}.00",
                "amount": {"value": rubles(line.unit_price), "currency": CURRENCY},
                "vat_code": vat_code,
                "payment_mode": "full_payment",
                "payment_subject": line.subject,
            }
            for line in receipt.lines
        ]
    }
    if receipt.phone:
        body["customer"] = {"phone": receipt.phone}
    return body


# -- the gateway a provider adapter implements ----------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    """One payment to create; ``attempt_id`` (our ledger row) travels in its metadata."""

    order_id: int
    attempt_id: int
    amount: int
    description: str
    return_url: str
    receipt: Receipt
    idempotence_key: str


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider's API shows it; amounts in kopecks."""

    id: str
    status: str
    amount: int
    confirmation_url: str | None = None
    order_id: int | None = None
    attempt_id: int | None = None


@dataclass(frozen=True)
class RefundRequest:
    provider_payment_id: str
    refund_id: int
    amount: int
    description: str
    receipt: Receipt | None
    idempotence_key: str


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    payment_id: str
    status: str
    amount: int
    refund_id: int | None = None


class GatewayError(Exception):
    """The provider refused or could not be asked.

    ``retryable``: the outcome is unknown (timeout, 5xx), so the same request with the same
    idempotence key may be sent again; otherwise it was refused and a retry would be too.
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class PaymentGateway(Protocol):
    """A payment provider's API, reduced to what the shop needs. Calls never block the loop."""

    provider: PaymentProvider

    async def create_payment(self, request: PaymentRequest) -> ProviderPayment: ...

    async def get_payment(self, payment_id: str) -> ProviderPayment | None: ...

    async def create_refund(self, request: RefundRequest) -> ProviderRefund: ...

    async def get_refund(self, refund_id: str) -> ProviderRefund | None: ...


# -- outcomes ------------------------------------------------------------------------------


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


# -- starting a YooKassa payment -------------------------------------------------------------


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
        order = await _lock_order(session, order_id, customer_id, with_lines=True)
        _check_payable(order, now or utcnow())
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
                history=[_entry(P.CREATING, "start", order.total)],
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


def _check_payable(order: Order, now: datetime) -> None:
    if order.status != S.AWAITING_PAYMENT or order.payment_method == PaymentProvider.CASH:
        raise ShopError("not_awaiting_payment", order_id=order.id, status=order.status)
    if order.reserved_until is not None and order.reserved_until <= now:
        raise ShopError("reservation_expired", order_id=order.id)


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
            attempt.history = [*attempt.history, _entry(P.FAILED, "create", note=error[:200])]


async def _record_created(session: AsyncSession, attempt_id: int, created: ProviderPayment) -> None:
    payment = await session.get(Payment, attempt_id)
    if payment is None:
        return
    await _lock_order(session, payment.order_id)
    payment = await session.get(Payment, attempt_id, with_for_update=True, populate_existing=True)
    assert payment is not None
    if payment.provider_payment_id is None:
        payment.provider_payment_id = created.id
    elif payment.provider_payment_id != created.id:
        log.error("attempt %s got payment %s, has %s", attempt_id, created.id, payment.id)
        return
    if created.confirmation_url:
        payment.confirmation_url = created.confirmation_url
    await _apply(session, payment, created.status, created.amount, "create")


# -- confirming: what the provider's API says ------------------------------------------------


async def confirm_payment(
    sessions: async_sessionmaker[AsyncSession],
    provider: PaymentProvider | str,
    provider_payment_id: str,
    status: str,
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
        payment = await _find_payment(session, provider, provider_payment_id, attempt_id)
        if payment is None:
            log.warning("%s payment %s is not in the ledger", provider, provider_payment_id)
            return Settlement(Outcome.UNKNOWN)
        await _lock_order(session, payment.order_id)
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
        return await _apply(session, payment, status, amount, source)


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


async def _find_payment(
    session: AsyncSession,
    provider: PaymentProvider,
    provider_payment_id: str,
    attempt_id: int | None,
) -> Payment | None:
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


async def _apply(
    session: AsyncSession, payment: Payment, status: str, amount: int, source: str
) -> Settlement:
    """Move a locked ledger row forward; success settles the order in this transaction."""
    try:
        reported = PaymentStatus(status)
    except ValueError:
        log.warning("payment %s: unknown status %r from %s", payment.id, status, source)
        return Settlement(Outcome.UNCHANGED, payment.order_id)
    current = PaymentStatus(payment.status)
    if reported == current:
        return Settlement(Outcome.UNCHANGED, payment.order_id)
    if current in _FINAL or _RANK.get(reported, 99) < _RANK[current]:
        payment.history = [*payment.history, _entry(reported, source, amount, note="stale")]
        return Settlement(Outcome.UNCHANGED, payment.order_id)
    payment.status = reported
    payment.history = [*payment.history, _entry(reported, source, amount)]
    if reported != P.SUCCEEDED:
        return Settlement(Outcome.RECORDED, payment.order_id)
    if amount != payment.amount:
        _alert_staff(session, "amount_mismatch", payment, reported_amount=amount)
        return Settlement(Outcome.AMOUNT_MISMATCH, payment.order_id)
    return await _settle_success(session, payment)


async def _settle_success(session: AsyncSession, payment: Payment) -> Settlement:
    """Pay the order with this payment, or keep it after expiry, or give the money back."""
    order = await session.get(Order, payment.order_id)
    assert order is not None
    actor = f"payment:{payment.provider}"
    if order.status == S.AWAITING_PAYMENT and order.payment_method != PaymentProvider.CASH:
        await transition(session, order.id, S.PAID, actor=actor, note=payment.provider)
        order.payment_method = payment.provider
        return Settlement(Outcome.PAID, order.id)
    if order.status == S.CANCELLED and await _expired(session, order.id):
        if await _reserve_again(session, order):
            await _force_status(
                session, order, S.CANCELLED, S.PAID, actor=actor, note="late payment",
                values={"stock_reserved": True, "payment_method": payment.provider},
            )  # fmt: skip
            return Settlement(Outcome.LATE_PAID, order.id)
        reason = "late_payment_out_of_stock"
    else:
        reason = "order_not_awaiting_payment"
    refund = _queue_whole_refund(session, order, payment, reason)
    await session.flush()
    _alert_staff(session, reason, payment, refund_id=refund.id, order_status=order.status)
    return Settlement(Outcome.REFUNDING, order.id, refund.id)


async def _expired(session: AsyncSession, order_id: int) -> bool:
    """Whether the order was cancelled because its reservation ran out (not by a person)."""
    note = await session.scalar(
        select(OrderEvent.note)
        .where(OrderEvent.order_id == order_id, OrderEvent.to_status == S.CANCELLED)
        .order_by(OrderEvent.id.desc())
        .limit(1)
    )
    return note == "reservation_expired"


async def _reserve_again(session: AsyncSession, order: Order) -> bool:
    """Take the order's units off the shelf again, all or nothing, like checkout does."""
    if order.stock_reserved:
        return True
    lines = (
        await session.execute(
            select(OrderLine.variant_id, OrderLine.quantity)
            .where(OrderLine.order_id == order.id)
            .order_by(OrderLine.variant_id)
        )
    ).all()
    taken: list[tuple[int, int]] = []
    for variant_id, quantity in lines:
        reserved = None
        if variant_id is not None:
            reserved = await session.execute(
                update(Variant)
                .where(
                    Variant.id == variant_id,
                    Variant.stock >= quantity,
                    Variant.hidden.is_(False),
                )
                .values(stock=Variant.stock - quantity)
                .execution_options(synchronize_session=False)
            )
        if reserved is None or reserved.rowcount == 0:  # type: ignore[attr-defined]
            for done_id, done_quantity in taken:  # give back what this attempt took
                await session.execute(
                    update(Variant)
                    .where(Variant.id == done_id)
                    .values(stock=Variant.stock + done_quantity)
                    .execution_options(synchronize_session=False)
                )
            return False
        taken.append((variant_id, quantity))
    return True


async def _force_status(
    session: AsyncSession,
    order: Order,
    current: OrderStatus,
    target: OrderStatus,
    *,
    actor: str,
    note: str,
    values: dict[str, Any],
) -> None:
    """One of the two documented moves outside the table (see the module docstring)."""
    changed = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == current)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount == 0:  # type: ignore[attr-defined]
        raise ShopError("order_changed", order_id=order.id)
    set_committed_value(order, "status", target)
    for key, value in values.items():
        set_committed_value(order, key, value)
    record_event(session, order, actor=actor, from_status=current, to_status=target, note=note)
    outbox.enqueue(
        session,
        "order_status",
        {"order_id": order.id, "status": target.value, "previous": current.value, "note": note},
        customer_id=order.customer_id,
    )
    await session.flush()


def _alert_staff(session: AsyncSession, reason: str, payment: Payment, **facts: Any) -> None:
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


# -- Telegram Payments -----------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramInvoice:
    """What ``sendInvoice`` needs; ``prices`` add up to the order total, in kopecks.

    When ``needs_phone`` is set the order has no phone usable for the receipt: ask for one
    (``need_phone_number`` and ``send_phone_number_to_provider``).
    """

    title: str
    description: str
    payload: str
    currency: str
    prices: list[tuple[str, int]]
    provider_data: str
    needs_phone: bool


def invoice_for(order: Order, vat_code: int = 1) -> TelegramInvoice:
    """The invoice for an order (``order.lines`` loaded), with its 54-FZ receipt."""
    receipt = receipt_for(order)
    prices = [(f"{line.description[:48]} × {line.quantity}", line.amount) for line in receipt.lines]
    titles = ", ".join(line.title for line in order.lines)
    return TelegramInvoice(
        title=f"Заказ №{order.id}",
        description=(titles[:252] + "...") if len(titles) > 255 else titles or f"№{order.id}",
        payload=f"order:{order.id}",
        currency=CURRENCY,
        prices=prices,
        provider_data=json.dumps({"receipt": receipt_json(receipt, vat_code)}, ensure_ascii=False),
        needs_phone=receipt.phone is None,
    )


def order_id_from_payload(payload: str) -> int | None:
    """The order id an invoice payload carries, or None for a payload we did not make."""
    prefix, _, number = payload.partition(":")
    return int(number) if prefix == "order" and number.isdigit() else None


async def check_pre_checkout(
    session: AsyncSession,
    order_id: int,
    customer_id: int,
    total_amount: int,
    currency: str,
    *,
    now: datetime | None = None,
) -> str | None:
    """None when the payment may go ahead, else the error code to answer the query with."""
    order = await session.get(Order, order_id)
    if order is None or order.customer_id != customer_id:
        return "not_available"
    if currency != CURRENCY:
        return "wrong_currency"
    if order.status != S.AWAITING_PAYMENT or order.payment_method == PaymentProvider.CASH:
        return "not_awaiting_payment"
    if not order.stock_reserved or (
        order.reserved_until is not None and order.reserved_until <= (now or utcnow())
    ):
        return "reservation_expired"
    if total_amount != order.total:
        return "price_changed"
    return None


async def record_telegram_payment(
    sessions: async_sessionmaker[AsyncSession],
    order_id: int,
    customer_id: int,
    telegram_payment_charge_id: str,
    provider_payment_charge_id: str,
    total_amount: int,
    currency: str = CURRENCY,
) -> Settlement:
    """Record a ``successful_payment``; the order is paid once however often it arrives.

    Money taken for an order that is not this customer's, or in another currency, is kept
    in the ledger and handed to staff (refund queued or amount mismatch), never lost.
    """
    key = (PaymentProvider.TELEGRAM, telegram_payment_charge_id)
    try:
        async with sessions() as session, session.begin():
            order = await _lock_order(session, order_id)
            if await _find_payment(session, *key, None) is not None:
                return Settlement(Outcome.UNCHANGED, order_id)
            payment = Payment(
                order_id=order.id,
                provider=PaymentProvider.TELEGRAM,
                provider_payment_id=telegram_payment_charge_id,
                provider_charge_id=provider_payment_charge_id,
                amount=order.total,
                currency=CURRENCY,
                status=P.CREATING,
                refunded_amount=0,
                history=[],
            )
            session.add(payment)
            await session.flush()
            if order.customer_id != customer_id:
                payment.status = P.SUCCEEDED
                payment.history = [_entry(P.SUCCEEDED, "telegram", total_amount)]
                refund = _queue_whole_refund(session, order, payment, "another_customer")
                await session.flush()
                _alert_staff(session, "another_customer", payment, refund_id=refund.id)
                return Settlement(Outcome.REFUNDING, order.id, refund.id)
            amount = total_amount if currency == CURRENCY else -1
            return await _apply(session, payment, P.SUCCEEDED, amount, "telegram")
    except IntegrityError:  # the same charge id recorded by a concurrent delivery
        return Settlement(Outcome.UNCHANGED, order_id)


# -- cash on delivery ------------------------------------------------------------------------


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
        order = await _lock_order(session, order_id, customer_id)
        if order.payment_method == PaymentProvider.CASH and order.status == S.ASSEMBLING:
            return
        _check_payable(order, now or utcnow())
        method = (
            await session.get(DeliveryMethod, order.delivery_method_id)
            if order.delivery_method_id is not None
            else None
        )
        if method is None or not method.cash_on_delivery:
            raise ShopError("cash_not_available", order_id=order.id)
        await _force_status(
            session, order, S.AWAITING_PAYMENT, S.ASSEMBLING, actor=f"customer:{customer_id}",
            note="cash_on_delivery", values={"payment_method": PaymentProvider.CASH},
        )  # fmt: skip
        session.add(
            Payment(
                order_id=order.id,
                provider=PaymentProvider.CASH,
                amount=order.total,
                status=P.PENDING,
                refunded_amount=0,
                history=[_entry(P.PENDING, f"customer:{customer_id}", order.total)],
            )
        )


# -- refunds ---------------------------------------------------------------------------------


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
        order = await _lock_order(session, order_id, with_lines=True)
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
        refund_id = refund.id
    status = await execute_refund(sessions, gateway, refund_id)
    async with sessions() as session:
        current = await session.scalar(select(Order.status).where(Order.id == order_id))
    return RefundResult(refund_id, amount, status, OrderStatus(current))


async def execute_refund(
    sessions: async_sessionmaker[AsyncSession], gateway: PaymentGateway, refund_id: int
) -> RefundStatus:
    """Send a stored refund to the provider (again, with its key, if the answer was lost)."""
    async with sessions() as session:
        refund = await session.get(Refund, refund_id)
        if refund is None or refund.status != RefundStatus.CREATING:
            return RefundStatus(refund.status) if refund else RefundStatus.FAILED
        payment = await session.get(Payment, refund.payment_id)
        order = await _lock_order(session, refund.order_id, with_lines=True, lock=False)
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
    status: str,
    source: str,
    note: str | None = None,
) -> RefundStatus:
    """Record a refund's status (order, payment, refund locked in that order); apply success."""
    order_id = await session.scalar(select(Refund.order_id).where(Refund.id == refund_id))
    assert order_id is not None
    order = await _lock_order(session, order_id)
    refund = await session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
    assert refund is not None
    if refund.provider_refund_id is None and provider_refund_id is not None:
        refund.provider_refund_id = provider_refund_id
    try:
        reported = RefundStatus(status)
    except ValueError:
        return RefundStatus(refund.status)
    if reported == refund.status or refund.status in _REFUND_FINAL:
        return RefundStatus(refund.status)
    refund.status = reported
    refund.history = [*refund.history, _entry(reported, source, refund.amount, note=note)]
    payment = await session.get(
        Payment, refund.payment_id, with_for_update=True, populate_existing=True
    )
    assert payment is not None
    if reported in (RefundStatus.CANCELED, RefundStatus.FAILED):
        _alert_staff(session, "refund_failed", payment, refund_id=refund.id, error=note)
    elif reported == RefundStatus.SUCCEEDED:
        payment.refunded_amount += refund.amount
        whole = payment.refunded_amount >= payment.amount
        if whole and order.status in REFUNDABLE_ORDER and await _paid_by(session, payment.id):
            await transition(
                session, order.id, S.REFUNDED, actor=refund.actor, note=refund.reason or "refund"
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
                Payment.status == P.SUCCEEDED,
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
            Refund.status.not_in([RefundStatus.FAILED, RefundStatus.CANCELED]),
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
                Refund.status.not_in([RefundStatus.FAILED, RefundStatus.CANCELED]),
            )
        )
    ).scalars()
    for done in refunds:
        for key, qty in done.items():
            left[key] = left.get(key, 0) - int(qty)
    return left


def _queue_whole_refund(
    session: AsyncSession, order: Order, payment: Payment, reason: str
) -> Refund:
    """Give back a payment the order cannot take (sent by `execute_refund` or the poller)."""
    lines = {str(line.id): line.quantity for line in order.lines}
    lines[DELIVERY] = 1
    return _new_refund(session, payment, payment.amount, lines, SYSTEM, reason)


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
        provider=_refund_provider(payment),
        amount=amount,
        status=RefundStatus.CREATING,
        idempotence_key=str(uuid.uuid4()),
        lines=lines,
        actor=actor,
        reason=reason,
        history=[_entry(RefundStatus.CREATING, actor, amount)],
    )
    session.add(refund)
    return refund


def _refund_provider(payment: Payment) -> PaymentProvider:
    """Telegram payments here go through YooKassa (the provider token is YooKassa's)."""
    return (
        PaymentProvider.YOOKASSA
        if payment.provider == PaymentProvider.TELEGRAM
        else payment.provider
    )


def _refund_target(payment: Payment) -> str:
    """The provider's payment id to refund: Telegram's provider charge id is YooKassa's id."""
    if payment.provider == PaymentProvider.TELEGRAM:
        return payment.provider_charge_id or ""
    return payment.provider_payment_id or ""


# -- polling ---------------------------------------------------------------------------------


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


async def payments_of(session: AsyncSession, order_id: int) -> list[Payment]:
    """The ledger of one order, oldest first (for staff screens)."""
    query = select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    return list((await session.execute(query)).scalars())


# -- shared helpers --------------------------------------------------------------------------


async def _lock_order(
    session: AsyncSession,
    order_id: int,
    customer_id: int | None = None,
    *,
    with_lines: bool = False,
    lock: bool = True,
) -> Order:
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


def _entry(
    status: str, source: str, amount: int | None = None, *, note: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"at": utcnow().isoformat(), "status": str(status), "source": source}
    if amount is not None:
        entry["amount"] = amount
    if note:
        entry["note"] = note
    return entry
