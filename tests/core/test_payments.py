"""The payments ledger: started once, confirmed exactly once, late money kept or given back.

A small fake stands in for the payment provider (the real SDK against the emulator is in
tests/test_payments_yookassa.py); every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import func, select, update

from shop.checkout import place_order
from shop.errors import ShopError
from shop.models import (
    DeliveryMethod,
    Order,
    OrderEvent,
    OrderStatus,
    OutboxMessage,
    Payment,
    PaymentProvider,
    Refund,
    RefundStatus,
    Variant,
)
from shop.models.types import utcnow
from shop.orders import get_order, transition
from shop.payments import (
    GatewayError,
    Outcome,
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundRequest,
    check_pre_checkout,
    choose_cash_on_delivery,
    confirm_payment,
    invoice_for,
    order_id_from_payload,
    pending_payments,
    pending_refunds,
    receipt_phone,
    record_telegram_payment,
    refund_order,
    run_queued_refunds,
    start_payment,
    sync_payment,
    sync_refund,
)
from shop.reservations import expire_unpaid_orders
from tests.core.helpers import CONTACT, checkout, fill_cart, new_customer, small_shop, stock_of

S = OrderStatus
T = TypeVar("T")
RETURN_URL = "https://t.me/demo_shop_bot"
YK = PaymentProvider.YOOKASSA


class FakeGateway:
    """A provider that keeps payments by idempotence key, as YooKassa does.

    ``lose_answers`` makes the next calls do their work and then fail as a timeout would;
    ``refuse`` makes the next create fail for good; ``before_create`` runs at the moment of
    the API call, to look at the database from outside.
    """

    provider = YK

    def __init__(self) -> None:
        self.payments: dict[str, ProviderPayment] = {}
        self.refunds: dict[str, ProviderRefund] = {}
        self.by_key: dict[str, str] = {}
        self.keys: list[str] = []
        self.lose_answers = 0
        self.refuse = False
        self.refund_status = "succeeded"
        self.before_create: Callable[[PaymentRequest], Awaitable[None]] | None = None
        self.ids = itertools.count(1)

    async def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        self.keys.append(request.idempotence_key)
        if self.before_create is not None:
            await self.before_create(request)
        if self.refuse:
            self.refuse = False
            raise GatewayError("invalid_request", retryable=False)
        assert request.receipt.total == request.amount
        if request.idempotence_key not in self.by_key:
            payment_id = f"pay-{next(self.ids)}"
            self.by_key[request.idempotence_key] = payment_id
            self.payments[payment_id] = ProviderPayment(
                id=payment_id,
                status="pending",
                amount=request.amount,
                confirmation_url=f"https://pay.example/{payment_id}",
                order_id=request.order_id,
                attempt_id=request.attempt_id,
            )
        return self._answer(self.payments[self.by_key[request.idempotence_key]])

    async def get_payment(self, payment_id: str) -> ProviderPayment | None:
        return self.payments.get(payment_id)

    async def create_refund(self, request: RefundRequest) -> ProviderRefund:
        self.keys.append(request.idempotence_key)
        assert request.receipt is not None and request.receipt.total == request.amount
        if request.idempotence_key not in self.by_key:
            refund_id = f"ref-{next(self.ids)}"
            self.by_key[request.idempotence_key] = refund_id
            self.refunds[refund_id] = ProviderRefund(
                refund_id,
                request.provider_payment_id,
                self.refund_status,
                request.amount,
                request.refund_id,
            )
        return self._answer(self.refunds[self.by_key[request.idempotence_key]])

    async def get_refund(self, refund_id: str) -> ProviderRefund | None:
        return self.refunds.get(refund_id)

    def pay(self, payment_id: str, status: str = "succeeded") -> None:
        self.payments[payment_id] = replace(self.payments[payment_id], status=status)

    def _answer(self, answer: T) -> T:
        if self.lose_answers:
            self.lose_answers -= 1
            raise GatewayError("timeout", retryable=True)
        return answer


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


async def _order(sessions, stocks=(5,), quantities=(2,), external_id=1):
    variants = await small_shop(sessions, list(stocks))
    customer = await new_customer(sessions, external_id)
    await fill_cart(sessions, customer, dict(zip(variants, quantities, strict=False)))
    placed = await checkout(sessions, customer)
    return placed, customer, variants


async def _paid_via_gateway(sessions, gateway, placed, customer) -> str:
    await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    (payment_id,) = gateway.payments
    gateway.pay(payment_id)
    return payment_id


async def _status(sessions, order_id: int) -> OrderStatus:
    async with sessions() as session:
        return OrderStatus(await session.scalar(select(Order.status).where(Order.id == order_id)))


async def _events(sessions, order_id: int) -> list[tuple[str | None, str, str | None]]:
    async with sessions() as session:
        rows = await session.execute(
            select(OrderEvent.from_status, OrderEvent.to_status, OrderEvent.note)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.id)
        )
        return [tuple(row) for row in rows]


async def _outbox(sessions) -> list[tuple[str, str, dict]]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.recipient, OutboxMessage.kind, OutboxMessage.payload).order_by(
                OutboxMessage.id
            )
        )
        return [tuple(row) for row in rows]


async def _ledger(sessions) -> list[Payment]:
    async with sessions() as session:
        return list((await session.execute(select(Payment).order_by(Payment.id))).scalars())


async def _refunds(sessions) -> list[Refund]:
    async with sessions() as session:
        return list((await session.execute(select(Refund).order_by(Refund.id))).scalars())


async def _expire(sessions) -> None:
    assert await expire_unpaid_orders(sessions, now=utcnow() + timedelta(hours=1))


# -- starting a payment ----------------------------------------------------------------------


async def test_start_stores_the_key_before_calling_and_outside_any_transaction(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    seen: list[tuple[str, str | None]] = []

    async def look(request: PaymentRequest) -> None:
        # Another worker can lock the order right now: no transaction is held over the call.
        async with sessions() as session, session.begin():
            await session.execute(
                select(Order.id).where(Order.id == placed.id).with_for_update(nowait=True)
            )
            attempt = await session.get(Payment, request.attempt_id)
            seen.append((attempt.status, attempt.idempotence_key))

    gateway.before_create = look
    url = await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    (payment,) = await _ledger(sessions)
    assert seen == [("creating", gateway.keys[0])]
    assert url == "https://pay.example/pay-1" == payment.confirmation_url
    assert (payment.provider_payment_id, payment.status, payment.amount) == (
        "pay-1",
        "pending",
        placed.total,
    )
    assert payment.idempotence_key == gateway.keys[0]


async def test_a_second_tap_reuses_the_pending_link(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    first = await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    second = await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    assert first == second
    assert len(gateway.keys) == 1
    assert len(await _ledger(sessions)) == 1


async def test_a_lost_answer_is_retried_with_the_same_key_and_makes_one_payment(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    gateway.lose_answers = 1
    with pytest.raises(ShopError) as error:
        await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    assert error.value.code == "payment_unavailable"
    (attempt,) = await _ledger(sessions)
    assert (attempt.status, attempt.provider_payment_id) == ("creating", None)

    url = await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    assert gateway.keys == [attempt.idempotence_key] * 2
    assert list(gateway.payments) == ["pay-1"]
    assert url == "https://pay.example/pay-1"
    (attempt,) = await _ledger(sessions)
    assert (attempt.status, attempt.provider_payment_id) == ("pending", "pay-1")


async def test_a_refused_create_lets_the_next_tap_start_afresh(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    gateway.refuse = True
    with pytest.raises(ShopError):
        await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    failed, pending = await _ledger(sessions)
    assert (failed.status, pending.status) == ("failed", "pending")
    assert gateway.keys == [failed.idempotence_key, pending.idempotence_key]
    assert failed.idempotence_key != pending.idempotence_key


@pytest.mark.parametrize("case", ["another_customer", "expired", "paid"])
async def test_only_the_customers_own_unpaid_reserved_order_can_be_paid(sessions, gateway, case):
    placed, customer, _ = await _order(sessions)
    who = customer
    if case == "another_customer":
        who = await new_customer(sessions, 2)
    elif case == "expired":
        await _expire(sessions)
    else:
        async with sessions() as session, session.begin():
            await transition(session, placed.id, S.PAID, actor="system")

    with pytest.raises(ShopError) as error:
        await start_payment(sessions, gateway, placed.id, who, RETURN_URL)

    expected = {
        "another_customer": "not_available",
        "expired": "not_awaiting_payment",
        "paid": "not_awaiting_payment",
    }
    assert error.value.code == expected[case]
    assert gateway.keys == []
    assert await _ledger(sessions) == []


async def test_a_reservation_past_its_time_is_not_paid_even_before_expiry_runs(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    with pytest.raises(ShopError) as error:
        await start_payment(
            sessions, gateway, placed.id, customer, RETURN_URL, now=utcnow() + timedelta(hours=1)
        )
    assert error.value.code == "reservation_expired"


# -- confirming ------------------------------------------------------------------------------


async def test_ten_concurrent_confirmations_pay_the_order_once(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    payment_id = await _paid_via_gateway(sessions, gateway, placed, customer)

    settlements = await asyncio.gather(
        *[
            confirm_payment(sessions, YK, payment_id, "succeeded", placed.total, "webhook")
            for _ in range(10)
        ]
    )

    outcomes = sorted(s.outcome for s in settlements)
    assert outcomes == [Outcome.PAID] + [Outcome.UNCHANGED] * 9
    assert await _status(sessions, placed.id) == S.PAID
    assert (await _events(sessions, placed.id))[-1][:2] == ("awaiting_payment", "paid")
    assert len(await _events(sessions, placed.id)) == 3
    assert [(r, k, p["status"]) for r, k, p in await _outbox(sessions)] == [
        ("customer", "order_status", "paid")
    ]
    (payment,) = await _ledger(sessions)
    assert [entry["status"] for entry in payment.history] == ["creating", "pending", "succeeded"]
    async with sessions() as session:
        assert (await session.get(Order, placed.id)).payment_method == "yookassa"


async def test_a_replayed_success_changes_nothing(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    payment_id = await _paid_via_gateway(sessions, gateway, placed, customer)
    first = await sync_payment(sessions, gateway, payment_id, "webhook")
    before = (await _events(sessions, placed.id), await _outbox(sessions))

    again = await sync_payment(sessions, gateway, payment_id, "webhook")

    assert (first.outcome, again.outcome) == (Outcome.PAID, Outcome.UNCHANGED)
    assert (await _events(sessions, placed.id), await _outbox(sessions)) == before


async def test_stale_reports_after_success_are_kept_in_history_only(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    payment_id = await _paid_via_gateway(sessions, gateway, placed, customer)
    await confirm_payment(sessions, YK, payment_id, "succeeded", placed.total, "webhook")

    canceled = await confirm_payment(sessions, YK, payment_id, "canceled", placed.total, "webhook")
    pending = await confirm_payment(sessions, YK, payment_id, "pending", placed.total, "poll")

    assert (canceled.outcome, pending.outcome) == (Outcome.UNCHANGED, Outcome.UNCHANGED)
    (payment,) = await _ledger(sessions)
    assert payment.status == "succeeded"
    assert [(e["status"], e.get("note")) for e in payment.history[-2:]] == [
        ("canceled", "stale"),
        ("pending", "stale"),
    ]
    assert await _status(sessions, placed.id) == S.PAID


async def test_a_cancelled_payment_leaves_the_order_awaiting_and_allows_a_new_one(
    sessions, gateway
):
    placed, customer, _ = await _order(sessions)
    await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    gateway.pay("pay-1", "canceled")
    settled = await sync_payment(sessions, gateway, "pay-1", "webhook")
    url = await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    assert settled.outcome == Outcome.RECORDED
    assert await _status(sessions, placed.id) == S.AWAITING_PAYMENT
    assert url == "https://pay.example/pay-2"


async def test_a_wrong_amount_does_not_pay_and_alerts_staff(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    payment_id = await _paid_via_gateway(sessions, gateway, placed, customer)

    settled = await confirm_payment(sessions, YK, payment_id, "succeeded", 100, "webhook")

    assert settled.outcome == Outcome.AMOUNT_MISMATCH
    assert await _status(sessions, placed.id) == S.AWAITING_PAYMENT
    ((recipient, kind, payload),) = await _outbox(sessions)
    assert (recipient, kind, payload["reason"]) == ("moderators", "staff_alert", "amount_mismatch")
    assert payload["reported_amount"] == 100


async def test_an_unknown_payment_changes_nothing(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    by_confirm = await confirm_payment(sessions, YK, "forged", "succeeded", placed.total, "x")
    by_sync = await sync_payment(sessions, gateway, "forged", "webhook")

    assert by_confirm.outcome == by_sync.outcome == Outcome.UNKNOWN
    assert await _status(sessions, placed.id) == S.AWAITING_PAYMENT
    assert [p.status for p in await _ledger(sessions)] == ["pending"]
    assert await _outbox(sessions) == []


async def test_a_payment_whose_create_answer_was_lost_is_found_by_its_attempt(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    gateway.lose_answers = 1
    with pytest.raises(ShopError):
        await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    gateway.pay("pay-1")

    settled = await sync_payment(sessions, gateway, "pay-1", "webhook")

    assert settled.outcome == Outcome.PAID
    (payment,) = await _ledger(sessions)
    assert (payment.provider_payment_id, payment.status) == ("pay-1", "succeeded")


async def test_polling_lists_payments_still_waiting_for_the_shopper(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    async with sessions() as session:
        assert await pending_payments(session) == ["pay-1"]
        assert await pending_payments(session, now=utcnow() + timedelta(days=2)) == []
    gateway.pay("pay-1")
    await sync_payment(sessions, gateway, "pay-1", "poll")
    async with sessions() as session:
        assert await pending_payments(session) == []


# -- late payments ---------------------------------------------------------------------------


async def test_a_late_payment_reserves_the_stock_again_and_pays(sessions, gateway):
    placed, customer, variants = await _order(sessions)
    payment_id = await _paid_via_gateway(sessions, gateway, placed, customer)
    await _expire(sessions)
    assert await stock_of(sessions, variants) == [5]

    settled = await sync_payment(sessions, gateway, payment_id, "webhook")

    assert settled.outcome == Outcome.LATE_PAID
    assert await _status(sessions, placed.id) == S.PAID
    assert await stock_of(sessions, variants) == [3]
    assert (await _events(sessions, placed.id))[-2:] == [
        ("awaiting_payment", "cancelled", "reservation_expired"),
        ("cancelled", "paid", "late payment"),
    ]
    assert [(k, p["status"]) for _, k, p in await _outbox(sessions)] == [
        ("order_status", "cancelled"),
        ("order_status", "paid"),
    ]
    async with sessions() as session:
        order = await session.get(Order, placed.id)
    assert (order.stock_reserved, order.payment_method) == (True, "yookassa")
    # The order is now an ordinary paid one: expiry leaves it alone and it can be refunded.
    assert await expire_unpaid_orders(sessions, now=utcnow() + timedelta(days=1)) == []


async def test_a_late_payment_without_stock_is_refunded_and_staff_alerted(sessions, gateway):
    placed, customer, variants = await _order(sessions, stocks=(5, 1), quantities=(2, 1))
    payment_id = await _paid_via_gateway(sessions, gateway, placed, customer)
    await _expire(sessions)
    async with sessions() as session, session.begin():  # someone bought the last unit
        await session.execute(update(Variant).where(Variant.id == variants[1]).values(stock=0))

    settled = await sync_payment(sessions, gateway, payment_id, "webhook")

    assert settled.outcome == Outcome.REFUNDING
    assert await _status(sessions, placed.id) == S.CANCELLED
    assert await stock_of(sessions, variants) == [5, 0]  # all or nothing
    (refund,) = await _refunds(sessions)
    assert (refund.status, refund.amount, refund.actor) == ("succeeded", placed.total, "system")
    assert refund.provider_refund_id in gateway.refunds
    assert gateway.refunds[refund.provider_refund_id].payment_id == payment_id
    (payment,) = await _ledger(sessions)
    assert (payment.status, payment.refunded_amount) == ("succeeded", placed.total)
    alerts = [p for r, k, p in await _outbox(sessions) if r == "moderators"]
    assert [a["reason"] for a in alerts] == ["late_payment_out_of_stock"]
    refunds_told = [p for _, k, p in await _outbox(sessions) if k == "refund"]
    assert [p["amount"] for p in refunds_told] == [placed.total]


async def test_money_for_an_order_the_customer_cancelled_is_given_back(sessions, gateway):
    placed, customer, variants = await _order(sessions)
    payment_id = await _paid_via_gateway(sessions, gateway, placed, customer)
    async with sessions() as session, session.begin():
        await transition(session, placed.id, S.CANCELLED, actor=f"customer:{customer}")

    settled = await sync_payment(sessions, gateway, payment_id, "webhook")

    assert settled.outcome == Outcome.REFUNDING
    assert await _status(sessions, placed.id) == S.CANCELLED
    assert await stock_of(sessions, variants) == [5]
    assert [r.status for r in await _refunds(sessions)] == ["succeeded"]


async def test_a_second_payment_for_a_paid_order_is_given_back(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    payment_id = await _paid_via_gateway(sessions, gateway, placed, customer)
    await record_telegram_payment(sessions, placed.id, customer, "tg-1", "yk-1", placed.total)

    settled = await sync_payment(sessions, gateway, payment_id, "webhook")

    assert settled.outcome == Outcome.REFUNDING
    assert await _status(sessions, placed.id) == S.PAID  # still paid by the Telegram payment
    (refund,) = await _refunds(sessions)
    assert (refund.status, gateway.refunds[refund.provider_refund_id].payment_id) == (
        "succeeded",
        payment_id,
    )


async def test_a_refund_whose_answer_was_lost_is_sent_again_with_its_key(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    payment_id = await _paid_via_gateway(sessions, gateway, placed, customer)
    async with sessions() as session, session.begin():
        await transition(session, placed.id, S.CANCELLED, actor=f"customer:{customer}")
    gateway.lose_answers = 1
    await sync_payment(sessions, gateway, payment_id, "webhook")
    (refund,) = await _refunds(sessions)
    assert refund.status == "creating"

    assert await run_queued_refunds(sessions, gateway) == []  # too fresh to retry
    sent = await run_queued_refunds(sessions, gateway, now=utcnow() + timedelta(minutes=1))

    assert sent == [refund.id]
    assert len(gateway.refunds) == 1
    assert gateway.keys[-2:] == [refund.idempotence_key] * 2
    assert [r.status for r in await _refunds(sessions)] == ["succeeded"]


# -- Telegram Payments -----------------------------------------------------------------------


async def test_pre_checkout_accepts_a_reserved_order_at_its_total(sessions):
    placed, customer, _ = await _order(sessions)
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
    placed, customer, _ = await _order(sessions)
    order_id, total, currency, now = placed.id, placed.total, "RUB", None
    if case == "expired":
        now = utcnow() + timedelta(hours=1)
    elif case == "cancelled":
        await _expire(sessions)
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
    placed, customer, _ = await _order(sessions)

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
    assert [e[:2] for e in await _events(sessions, placed.id)].count(
        ("awaiting_payment", "paid")
    ) == 1
    (payment,) = await _ledger(sessions)
    assert (payment.provider, payment.provider_payment_id, payment.provider_charge_id) == (
        "telegram",
        "tg-1",
        "yk-1",
    )
    assert len(await _outbox(sessions)) == 1


async def test_a_telegram_payment_for_another_amount_does_not_pay(sessions):
    placed, customer, _ = await _order(sessions)
    settled = await record_telegram_payment(sessions, placed.id, customer, "tg-1", "yk-1", 5)
    assert settled.outcome == Outcome.AMOUNT_MISMATCH
    assert await _status(sessions, placed.id) == S.AWAITING_PAYMENT


async def test_a_paid_telegram_order_is_refunded_through_its_yookassa_charge(sessions, gateway):
    placed, customer, _ = await _order(sessions)
    await record_telegram_payment(sessions, placed.id, customer, "tg-1", "yk-77", placed.total)
    gateway.payments["yk-77"] = ProviderPayment("yk-77", "succeeded", placed.total)

    result = await refund_order(sessions, gateway, placed.id, "staff:telegram:9")

    assert (result.status, result.order_status) == ("succeeded", S.REFUNDED)
    (provider_refund,) = gateway.refunds.values()
    assert provider_refund.payment_id == "yk-77"


async def test_the_invoice_adds_up_and_carries_the_receipt(sessions):
    placed, customer, _ = await _order(sessions, stocks=(5, 5), quantities=(2, 1))
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
    assert (await _events(sessions, placed.id))[-1] == (
        "awaiting_payment",
        "assembling",
        "cash_on_delivery",
    )
    assert [(k, p["status"]) for _, k, p in await _outbox(sessions)] == [
        ("order_status", "assembling")
    ]
    ((provider, status, amount),) = [
        (p.provider, p.status, p.amount) for p in await _ledger(sessions)
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
    assert await _status(sessions, placed.id) == S.AWAITING_PAYMENT
    assert await _ledger(sessions) == []


async def test_cash_is_refused_for_another_customers_order(sessions):
    placed, _, _ = await _cod_order(sessions, cash=True)
    stranger = await new_customer(sessions, 2)
    with pytest.raises(ShopError) as error:
        await choose_cash_on_delivery(sessions, placed.id, stranger)
    assert error.value.code == "not_available"


# -- refunds ---------------------------------------------------------------------------------


async def _paid_order(sessions, gateway, stocks=(5, 5), quantities=(2, 1)):
    placed, customer, variants = await _order(sessions, stocks, quantities)
    payment_id = await _paid_via_gateway(sessions, gateway, placed, customer)
    await sync_payment(sessions, gateway, payment_id, "webhook")
    async with sessions() as session:
        order = await get_order(session, placed.id)
    return order, variants, payment_id


async def test_a_full_refund_updates_ledger_order_and_tells_the_customer(sessions, gateway):
    order, variants, _ = await _paid_order(sessions, gateway)

    result = await refund_order(sessions, gateway, order.id, "staff:telegram:9")

    assert (result.amount, result.status, result.order_status) == (
        order.total,
        "succeeded",
        S.REFUNDED,
    )
    (refund,) = await _refunds(sessions)
    assert (refund.actor, refund.provider_refund_id) == ("staff:telegram:9", "ref-2")
    assert gateway.keys[-1] == refund.idempotence_key
    (payment,) = await _ledger(sessions)
    assert payment.refunded_amount == order.total
    assert (await _events(sessions, order.id))[-1][:2] == ("paid", "refunded")
    assert (await _outbox(sessions))[-1][2]["status"] == "refunded"
    assert await stock_of(sessions, variants) == [5, 5]
    with pytest.raises(ShopError) as again:
        await refund_order(sessions, gateway, order.id, "staff:telegram:9")
    assert again.value.code == "not_refundable"


async def test_refund_by_lines_then_the_rest(sessions, gateway):
    order, _, _ = await _paid_order(sessions, gateway)
    first_line, second_line = order.lines

    part = await refund_order(sessions, gateway, order.id, "staff:1", {first_line.id: 1})
    with pytest.raises(ShopError) as too_much:
        await refund_order(sessions, gateway, order.id, "staff:1", {first_line.id: 2})
    rest = await refund_order(sessions, gateway, order.id, "staff:1")

    assert (part.amount, part.order_status) == (first_line.price, S.PAID)
    assert too_much.value.code == "refund_too_much"
    assert (rest.amount, rest.order_status) == (order.total - first_line.price, S.REFUNDED)
    first, second = await _refunds(sessions)
    assert first.lines == {str(first_line.id): 1}
    assert second.lines == {str(first_line.id): 1, str(second_line.id): 1}
    kinds = [(k, p.get("amount"), p.get("status")) for _, k, p in await _outbox(sessions)]
    assert kinds[-2:] == [("refund", first_line.price, None), ("order_status", None, "refunded")]


async def test_an_unpaid_order_cannot_be_refunded(sessions, gateway):
    placed, _, _ = await _order(sessions)
    with pytest.raises(ShopError) as error:
        await refund_order(sessions, gateway, placed.id, "staff:1")
    assert error.value.code == "not_refundable"


async def test_a_pending_refund_settles_when_its_notification_is_synced(sessions, gateway):
    order, _, _ = await _paid_order(sessions, gateway)
    gateway.refund_status = "pending"
    result = await refund_order(sessions, gateway, order.id, "staff:1")
    assert (result.status, result.order_status) == ("pending", S.PAID)
    async with sessions() as session:
        (provider_refund_id,) = await pending_refunds(session)

    gateway.refunds[provider_refund_id] = replace(
        gateway.refunds[provider_refund_id], status="succeeded"
    )
    statuses = [
        await sync_refund(sessions, gateway, provider_refund_id, "webhook") for _ in range(3)
    ]

    assert statuses == [RefundStatus.SUCCEEDED] * 3
    assert await _status(sessions, order.id) == S.REFUNDED
    (payment,) = await _ledger(sessions)
    assert payment.refunded_amount == order.total
    assert await sync_refund(sessions, gateway, "forged", "webhook") is None


async def test_concurrent_full_refunds_give_the_money_back_once(sessions, gateway):
    order, _, _ = await _paid_order(sessions, gateway)

    results = await asyncio.gather(
        *[refund_order(sessions, gateway, order.id, "staff:1") for _ in range(3)],
        return_exceptions=True,
    )

    done = [r for r in results if not isinstance(r, BaseException)]
    assert [r.amount for r in done] == [order.total]
    assert all(isinstance(r, ShopError) for r in results if r not in done)
    async with sessions() as session:
        total = await session.scalar(select(func.sum(Refund.amount)))
    assert total == order.total
