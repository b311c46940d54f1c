"""Telegram Payments: the pre-checkout check (answered within Telegram's 10 s) and the
successful_payment that marks the order paid, once."""

from __future__ import annotations

import logging

from aiogram.types import Message, PreCheckoutQuery
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import logs
from handlers.texts import error_text
from shop.accounts import AccountRef, Channel
from shop.billing import check_pre_checkout, order_id_from_payload, record_telegram_payment
from shop.customers import find_customer, pick_language
from shop.inbox import Entry

log = logging.getLogger(__name__)


async def pre_checkout_handler(
    query: PreCheckoutQuery, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Re-check the order (still reserved, same total, roubles) and answer at once."""
    order_id = order_id_from_payload(query.invoice_payload)
    logs.bind(order=order_id)
    language = pick_language(query.from_user.language_code)
    code: str | None = "not_available"
    async with sessions() as session:
        customer = await find_customer(session, AccountRef(Channel.TELEGRAM, query.from_user.id))
        if customer is not None and order_id is not None:
            language = customer.language
            code = await check_pre_checkout(
                session, order_id, customer.id, query.total_amount, query.currency
            )
    if code is None:
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=error_text(language, code, {}))


async def successful_payment_handler(
    message: Message, sessions: async_sessionmaker[AsyncSession], entry: Entry | None = None
) -> None:
    """The money is taken: record it; the order's new status reaches the shopper by outbox."""
    payment = message.successful_payment
    if payment is None or message.from_user is None:
        return
    order_id = order_id_from_payload(payment.invoice_payload)
    logs.bind(order=order_id)
    async with sessions() as session:
        customer = await find_customer(session, AccountRef(Channel.TELEGRAM, message.from_user.id))
    if order_id is None or customer is None:
        log.error("successful_payment for an unknown order or customer: %s", payment)
        return
    settlement = await record_telegram_payment(
        sessions,
        order_id,
        customer.id,
        payment.telegram_payment_charge_id,
        payment.provider_payment_charge_id,
        payment.total_amount,
        payment.currency,
        entry,
    )
    log.info("telegram payment for order %s: %s", order_id, settlement.outcome)
