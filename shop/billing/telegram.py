"""Telegram Payments in the core: the order an invoice names, the pre-checkout re-check, the
payment record.

No aiogram and no provider JSON here: payments/telegram.py builds the invoice; the adapter
answers the pre-checkout query with `check_pre_checkout`'s verdict and hands every
``successful_payment`` to `record_telegram_payment`, which pays the order once per charge id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop import inbox
from shop.billing.alerts import alert_staff
from shop.billing.history import history_entry
from shop.billing.locks import lock_order
from shop.billing.receipts import CURRENCY
from shop.billing.refunds import queue_whole_refund
from shop.billing.settlement import Outcome, Settlement, apply_status, find_payment
from shop.models import Order, OrderStatus, Payment, PaymentProvider, PaymentStatus
from shop.models.types import utcnow

S = OrderStatus
P = PaymentStatus


def invoice_payload(order_id: int) -> str:
    """What an invoice carries to name its order (read back by `order_id_from_payload`)."""
    return f"order:{order_id}"


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
    entry: inbox.Entry | None = None,
) -> Settlement:
    """Record a ``successful_payment``; the order is paid once however often it arrives.

    Money taken for an order that is not this customer's, or in another currency, is kept
    in the ledger and handed to staff (refund queued for the poller, or amount mismatch).
    The inbox ``entry`` it came in is taken in the same transaction (UNCHANGED, untaken, when
    it is not its turn yet).
    """
    key = (PaymentProvider.TELEGRAM, telegram_payment_charge_id)
    try:
        async with sessions() as session, session.begin():
            if entry is not None and not await inbox.take(session, entry):
                return Settlement(Outcome.UNCHANGED, order_id)
            order = await lock_order(session, order_id)
            if await find_payment(session, *key, None) is not None:
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
                payment.history = [history_entry(P.SUCCEEDED, "telegram", total_amount)]
                refund = await queue_whole_refund(session, order, payment, "another_customer")
                alert_staff(session, "another_customer", payment, refund_id=refund.id)
                return Settlement(Outcome.REFUNDING, order.id, refund.id)
            amount = total_amount if currency == CURRENCY else -1
            return await apply_status(session, payment, P.SUCCEEDED, amount, "telegram")
    except IntegrityError:  # the same charge id recorded by a concurrent delivery
        if entry is not None:
            entry.taken = False  # rolled back: the inbox takes it on its own
        return Settlement(Outcome.UNCHANGED, order_id)
    except BaseException:
        if entry is not None:
            entry.taken = False
        raise
