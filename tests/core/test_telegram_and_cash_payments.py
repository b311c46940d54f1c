"""Telegram Payments and cash on delivery in the core: the invoice, the pre-checkout re-check,
one paid transition per charge, and the cash path to assembling.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from payments.telegram import invoice_for
from shop.billing import (
    Outcome,
    ProviderPayment,
    check_pre_checkout,
    choose_cash_on_delivery,
    order_id_from_payload,
    receipt_phone,
    record_telegram_payment,
    refund_order,
)
from shop.checkout import place_order
from shop.errors import ShopError
from shop.models import (
    DeliveryMethod,
    Order,
    OrderStatus,
)
from shop.models.types import utcnow
from shop.orders import get_order
from shop.reservations import expire_unpaid_orders
from tests.core.helpers import CONTACT, fill_cart, new_customer, small_shop, stock_of
from tests.core.payment_helpers import (
    expire_all,
    ledger_rows,
    order_moves,
    order_status,
    outbox_rows,
    place_test_order,
)

S = OrderStatus


# -- Telegram Payments -----------------------------------------------------------------------


async def test_pre_checkout_accepts_a_reserved_order_at_its_total(sessions):
    placed, customer, _ = await place_test_order(sessions)
    async with sessions() as session:
        answer = await check_pre_checkout(session, placed.id, customer, placed.total, "RUB")
    assert answer is None


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("expired", "reservation_expired"),
        ("cancelled", "not_awaiting_payment"),
        ("price_changed", "price_changed"),
        ("wrong_currency", "wrong_currency"),
        ("another_customer", "not_available"),
        ("no_such_order", "not_available"),
    ],
)
async def test_pre_checkout_refuses(sessions, case, code):
    placed, customer, _ = await place_test_order(sessions)
    order_id, total, currency, now = placed.id, placed.total, "RUB", None
    if case == "expired":
        now = utcnow() + timedelta(hours=1)
    elif case == "cancelled":
        await expire_all(sessions)
    elif case == "price_changed":
        total += 100
    elif case == "wrong_currency":
        currency = "USD"
    elif case == "another_customer":
        customer = await new_customer(sessions, 2)
    else:
        order_id += 1000
    async with sessions() as session:
        answer = await check_pre_checkout(session, order_id, customer, total, currency, now=now)
    assert answer == code


async def test_successful_payment_twice_pays_once(sessions):
    placed, customer, _ = await place_test_order(sessions)

    results = await asyncio.gather(
        *[
            record_telegram_payment(sessions, placed.id, customer, "tg-1", "yk-1", placed.total)
            for _ in range(5)
        ]
    )
    again = await record_telegram_payment(
        sessions, placed.id, customer, "tg-1", "yk-1", placed.total
    )

    assert sorted(r.outcome for r in results) == [Outcome.PAID] + [Outcome.UNCHANGED] * 4
    assert again.outcome == Outcome.UNCHANGED
    assert [e[:2] for e in await order_moves(sessions, placed.id)].count(
        ("awaiting_payment", "paid")
    ) == 1
    (payment,) = await ledger_rows(sessions)
    assert (payment.provider, payment.provider_payment_id, payment.provider_charge_id) == (
        "telegram",
        "tg-1",
        "yk-1",
    )
    assert len(await outbox_rows(sessions)) == 1


async def test_a_telegram_payment_for_another_amount_does_not_pay(sessions):
    placed, customer, _ = await place_test_order(sessions)
    settled = await record_telegram_payment(sessions, placed.id, customer, "tg-1", "yk-1", 5)
    assert settled.outcome == Outcome.AMOUNT_MISMATCH
    assert await order_status(sessions, placed.id) == S.AWAITING_PAYMENT


async def test_a_paid_telegram_order_is_refunded_through_its_yookassa_charge(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    await record_telegram_payment(sessions, placed.id, customer, "tg-1", "yk-77", placed.total)
    gateway.payments["yk-77"] = ProviderPayment("yk-77", "succeeded", placed.total)

    result = await refund_order(sessions, gateway, placed.id, "staff:telegram:9")

    assert (result.status, result.order_status) == ("succeeded", S.REFUNDED)
    (provider_refund,) = gateway.refunds.values()
    assert provider_refund.payment_id == "yk-77"


async def test_the_invoice_adds_up_and_carries_the_receipt(sessions):
    placed, customer, _ = await place_test_order(sessions, stocks=(5, 5), quantities=(2, 1))
    async with sessions() as session:
        order = await get_order(session, placed.id, customer)
    invoice = invoice_for(order, vat_code=4)

    assert (invoice.title, invoice.payload, invoice.currency) == (
        f"Заказ №{placed.id}",
        f"order:{placed.id}",
        "RUB",
    )
    assert order_id_from_payload(invoice.payload) == placed.id
    assert order_id_from_payload("evil:1") is None
    assert sum(amount for _, amount in invoice.prices) == placed.total
    receipt = json.loads(invoice.provider_data)["receipt"]
    assert receipt["customer"] == {"phone": "79001234567"}
    assert {item["vat_code"] for item in receipt["items"]} == {4}
    assert [(i["quantity"], i["amount"]["value"]) for i in receipt["items"]] == [
        ("2.00", "100.00"),
        ("1.00", "100.00"),
    ]
    assert invoice.needs_phone is False


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+7 900 123-45-67", "79001234567"),
        ("8 (900) 123-45-67", "79001234567"),
        ("9001234567", "79001234567"),
        ("12345", None),
        (None, None),
    ],
)
def test_receipt_phone(phone, expected):
    assert receipt_phone(phone) == expected


# -- cash on delivery ------------------------------------------------------------------------


async def _cod_order(sessions, cash: bool):
    (variant,) = await small_shop(sessions, [5])
    customer = await new_customer(sessions, 1)
    await fill_cart(sessions, customer, {variant: 1})
    async with sessions() as session, session.begin():
        method = DeliveryMethod(
            code="courier", title="Курьер", price=30_000, needs_address=True, cash_on_delivery=cash
        )
        session.add(method)
        await session.flush()
        placed = await place_order(
            session,
            customer,
            channel="telegram",
            delivery_method_id=method.id,
            contact=CONTACT,
            reservation_minutes=30,
        )
    return placed, customer, variant


async def test_cash_on_delivery_sends_the_order_to_assembling(sessions):
    placed, customer, variant = await _cod_order(sessions, cash=True)

    await choose_cash_on_delivery(sessions, placed.id, customer)
    await choose_cash_on_delivery(sessions, placed.id, customer)

    async with sessions() as session:
        order = await session.get(Order, placed.id)
    assert (order.status, order.payment_method, order.stock_reserved) == (
        "assembling",
        "cash",
        True,
    )
    assert (await order_moves(sessions, placed.id))[-1] == (
        "awaiting_payment",
        "assembling",
        "cash_on_delivery",
    )
    assert [(k, p["status"]) for _, k, p in await outbox_rows(sessions)] == [
        ("order_status", "assembling")
    ]
    ((provider, status, amount),) = [
        (p.provider, p.status, p.amount) for p in await ledger_rows(sessions)
    ]
    assert (provider, status, amount) == ("cash", "pending", placed.total)
    assert await stock_of(sessions, [variant]) == [4]
    assert await expire_unpaid_orders(sessions, now=utcnow() + timedelta(days=1)) == []
    async with sessions() as session:
        assert await check_pre_checkout(session, placed.id, customer, placed.total, "RUB") == (
            "not_awaiting_payment"
        )


async def test_cash_is_refused_where_the_delivery_method_does_not_take_it(sessions):
    placed, customer, _ = await _cod_order(sessions, cash=False)
    with pytest.raises(ShopError) as error:
        await choose_cash_on_delivery(sessions, placed.id, customer)
    assert error.value.code == "cash_not_available"
    assert await order_status(sessions, placed.id) == S.AWAITING_PAYMENT
    assert await ledger_rows(sessions) == []


async def test_cash_is_refused_for_another_customers_order(sessions):
    placed, _, _ = await _cod_order(sessions, cash=True)
    stranger = await new_customer(sessions, 2)
    with pytest.raises(ShopError) as error:
        await choose_cash_on_delivery(sessions, placed.id, stranger)
    assert error.value.code == "not_available"
