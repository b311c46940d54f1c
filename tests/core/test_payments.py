"""Online payments in the core: started once, confirmed exactly once, late money kept or
given back. A fake provider stands in for YooKassa (the real SDK against the emulator is in
tests/test_payments_yookassa.py); every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from shop.billing import (
    Gateways,
    Outcome,
    PaymentRequest,
    confirm_payment,
    pending_payments,
    record_telegram_payment,
    run_queued_refunds,
    start_payment,
    sync_payment,
)
from shop.errors import ShopError
from shop.models import Order, OrderStatus, Payment, PaymentProvider, Product, Variant
from shop.models.types import utcnow
from shop.orders import transition
from shop.reservations import expire_unpaid_orders
from tests.core.helpers import new_customer, stock_of
from tests.core.payment_helpers import (
    RETURN_URL,
    YK,
    expire_all,
    ledger_rows,
    order_moves,
    order_status,
    outbox_rows,
    pay_at_gateway,
    place_test_order,
    refund_rows,
)

S = OrderStatus


# -- starting a payment ----------------------------------------------------------------------


async def test_start_stores_the_key_before_calling_and_outside_any_transaction(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
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

    (payment,) = await ledger_rows(sessions)
    assert seen == [("creating", gateway.keys[0])]
    assert url == "https://pay.example/pay-1" == payment.confirmation_url
    assert (payment.provider_payment_id, payment.status, payment.amount) == (
        "pay-1",
        "pending",
        placed.total,
    )
    assert payment.idempotence_key == gateway.keys[0]


async def test_a_second_tap_reuses_the_pending_link(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    first = await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    second = await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    assert first == second
    assert len(gateway.keys) == 1
    assert len(await ledger_rows(sessions)) == 1


async def test_a_lost_answer_is_retried_with_the_same_key_and_makes_one_payment(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    gateway.lose_answers = 1
    with pytest.raises(ShopError) as error:
        await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    assert error.value.code == "payment_unavailable"
    (attempt,) = await ledger_rows(sessions)
    assert (attempt.status, attempt.provider_payment_id) == ("creating", None)

    url = await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    assert gateway.keys == [attempt.idempotence_key] * 2
    assert list(gateway.payments) == ["pay-1"]
    assert url == "https://pay.example/pay-1"
    (attempt,) = await ledger_rows(sessions)
    assert (attempt.status, attempt.provider_payment_id) == ("pending", "pay-1")


async def test_a_refused_create_lets_the_next_tap_start_afresh(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    gateway.refuse = True
    with pytest.raises(ShopError):
        await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    failed, pending = await ledger_rows(sessions)
    assert (failed.status, pending.status) == ("failed", "pending")
    assert gateway.keys == [failed.idempotence_key, pending.idempotence_key]
    assert failed.idempotence_key != pending.idempotence_key


@pytest.mark.parametrize("case", ["another_customer", "expired", "paid"])
async def test_only_the_customers_own_unpaid_reserved_order_can_be_paid(sessions, gateway, case):
    placed, customer, _ = await place_test_order(sessions)
    who = customer
    if case == "another_customer":
        who = await new_customer(sessions, 2)
    elif case == "expired":
        await expire_all(sessions)
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
    assert await ledger_rows(sessions) == []


async def test_a_reservation_past_its_time_is_not_paid_even_before_expiry_runs(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    with pytest.raises(ShopError) as error:
        await start_payment(
            sessions, gateway, placed.id, customer, RETURN_URL, now=utcnow() + timedelta(hours=1)
        )
    assert error.value.code == "reservation_expired"


# -- confirming ------------------------------------------------------------------------------


async def test_ten_concurrent_confirmations_pay_the_order_once(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)

    settlements = await asyncio.gather(
        *[
            confirm_payment(sessions, YK, payment_id, "succeeded", placed.total, "webhook")
            for _ in range(10)
        ]
    )

    outcomes = sorted(s.outcome for s in settlements)
    assert outcomes == [Outcome.PAID] + [Outcome.UNCHANGED] * 9
    assert await order_status(sessions, placed.id) == S.PAID
    assert (await order_moves(sessions, placed.id))[-1][:2] == ("awaiting_payment", "paid")
    assert len(await order_moves(sessions, placed.id)) == 3
    assert [(r, k, p["status"]) for r, k, p in await outbox_rows(sessions)] == [
        ("customer", "order_status", "paid")
    ]
    (payment,) = await ledger_rows(sessions)
    assert [entry["status"] for entry in payment.history] == ["creating", "pending", "succeeded"]
    async with sessions() as session:
        assert (await session.get(Order, placed.id)).payment_method == "yookassa"


async def test_a_replayed_success_changes_nothing(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    first = await sync_payment(sessions, gateway, payment_id, "webhook")
    before = (await order_moves(sessions, placed.id), await outbox_rows(sessions))

    again = await sync_payment(sessions, gateway, payment_id, "webhook")

    assert (first.outcome, again.outcome) == (Outcome.PAID, Outcome.UNCHANGED)
    assert (await order_moves(sessions, placed.id), await outbox_rows(sessions)) == before


async def test_stale_reports_after_success_are_kept_in_history_only(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    await confirm_payment(sessions, YK, payment_id, "succeeded", placed.total, "webhook")

    canceled = await confirm_payment(sessions, YK, payment_id, "canceled", placed.total, "webhook")
    pending = await confirm_payment(sessions, YK, payment_id, "pending", placed.total, "poll")

    assert (canceled.outcome, pending.outcome) == (Outcome.UNCHANGED, Outcome.UNCHANGED)
    (payment,) = await ledger_rows(sessions)
    assert payment.status == "succeeded"
    assert [(e["status"], e.get("note")) for e in payment.history[-2:]] == [
        ("canceled", "stale"),
        ("pending", "stale"),
    ]
    assert await order_status(sessions, placed.id) == S.PAID


async def test_a_cancelled_payment_leaves_the_order_awaiting_and_allows_a_new_one(
    sessions, gateway
):
    placed, customer, _ = await place_test_order(sessions)
    await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    gateway.pay("pay-1", "canceled")
    settled = await sync_payment(sessions, gateway, "pay-1", "webhook")
    url = await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    assert settled.outcome == Outcome.RECORDED
    assert await order_status(sessions, placed.id) == S.AWAITING_PAYMENT
    assert url == "https://pay.example/pay-2"


async def test_a_wrong_amount_does_not_pay_and_alerts_staff(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)

    settled = await confirm_payment(sessions, YK, payment_id, "succeeded", 100, "webhook")

    assert settled.outcome == Outcome.AMOUNT_MISMATCH
    assert await order_status(sessions, placed.id) == S.AWAITING_PAYMENT
    ((recipient, kind, payload),) = await outbox_rows(sessions)
    assert (recipient, kind, payload["reason"]) == ("moderators", "staff_alert", "amount_mismatch")
    assert payload["reported_amount"] == 100


async def test_an_unknown_payment_changes_nothing(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    by_confirm = await confirm_payment(sessions, YK, "forged", "succeeded", placed.total, "x")
    by_sync = await sync_payment(sessions, gateway, "forged", "webhook")

    assert by_confirm.outcome == by_sync.outcome == Outcome.UNKNOWN
    assert await order_status(sessions, placed.id) == S.AWAITING_PAYMENT
    assert [p.status for p in await ledger_rows(sessions)] == ["pending"]
    assert await outbox_rows(sessions) == []


async def test_a_payment_whose_create_answer_was_lost_is_found_by_its_attempt(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    gateway.lose_answers = 1
    with pytest.raises(ShopError):
        await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    gateway.pay("pay-1")

    settled = await sync_payment(sessions, gateway, "pay-1", "webhook")

    assert settled.outcome == Outcome.PAID
    (payment,) = await ledger_rows(sessions)
    assert (payment.provider_payment_id, payment.status) == ("pay-1", "succeeded")


async def test_polling_lists_payments_still_waiting_for_the_shopper(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
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
    placed, customer, variants = await place_test_order(sessions)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    await expire_all(sessions)
    assert await stock_of(sessions, variants) == [5]

    settled = await sync_payment(sessions, gateway, payment_id, "webhook")

    assert settled.outcome == Outcome.LATE_PAID
    assert await order_status(sessions, placed.id) == S.PAID
    assert await stock_of(sessions, variants) == [3]
    assert (await order_moves(sessions, placed.id))[-2:] == [
        ("awaiting_payment", "cancelled", "expired"),
        ("cancelled", "paid", "late_paid"),
    ]
    assert [(k, p["status"]) for _, k, p in await outbox_rows(sessions)] == [
        ("order_status", "cancelled"),
        ("order_status", "paid"),
    ]
    async with sessions() as session:
        order = await session.get(Order, placed.id)
    assert (order.stock_reserved, order.payment_method) == (True, "yookassa")
    # The order is now an ordinary paid one: expiry leaves it alone and it can be refunded.
    assert await expire_unpaid_orders(sessions, now=utcnow() + timedelta(days=1)) == []


async def test_a_late_payment_for_a_product_hidden_since_is_refunded(sessions, gateway):
    placed, customer, variants = await place_test_order(sessions, stocks=(5, 5), quantities=(2, 1))
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    await expire_all(sessions)
    async with sessions() as session, session.begin():  # the shop stopped selling it
        await session.execute(update(Product).values(hidden=True))

    settled = await sync_payment(sessions, gateway, payment_id, "webhook")

    assert settled.outcome == Outcome.REFUNDING
    assert await order_status(sessions, placed.id) == S.CANCELLED
    assert await stock_of(sessions, variants) == [5, 5]
    alerts = [p for r, k, p in await outbox_rows(sessions) if r == "moderators"]
    assert [a["reason"] for a in alerts] == ["late_payment_out_of_stock"]


async def test_a_late_payment_without_stock_is_refunded_and_staff_alerted(sessions, gateway):
    placed, customer, variants = await place_test_order(sessions, stocks=(5, 1), quantities=(2, 1))
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    await expire_all(sessions)
    async with sessions() as session, session.begin():  # someone bought the last unit
        await session.execute(update(Variant).where(Variant.id == variants[1]).values(stock=0))

    settled = await sync_payment(sessions, gateway, payment_id, "webhook")

    assert settled.outcome == Outcome.REFUNDING
    assert await order_status(sessions, placed.id) == S.CANCELLED
    assert await stock_of(sessions, variants) == [5, 0]  # all or nothing
    (refund,) = await refund_rows(sessions)
    assert (refund.status, refund.amount, refund.actor) == ("succeeded", placed.total, "system")
    assert refund.provider_refund_id in gateway.refunds
    assert gateway.refunds[refund.provider_refund_id].payment_id == payment_id
    (payment,) = await ledger_rows(sessions)
    assert (payment.status, payment.refunded_amount) == ("succeeded", placed.total)
    alerts = [p for r, k, p in await outbox_rows(sessions) if r == "moderators"]
    assert [a["reason"] for a in alerts] == ["late_payment_out_of_stock"]
    refunds_told = [p for _, k, p in await outbox_rows(sessions) if k == "refund"]
    assert [p["amount"] for p in refunds_told] == [placed.total]


async def test_money_for_an_order_the_customer_cancelled_is_given_back(sessions, gateway):
    placed, customer, variants = await place_test_order(sessions)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    async with sessions() as session, session.begin():
        await transition(session, placed.id, S.CANCELLED, actor=f"customer:{customer}")

    settled = await sync_payment(sessions, gateway, payment_id, "webhook")

    assert settled.outcome == Outcome.REFUNDING
    assert await order_status(sessions, placed.id) == S.CANCELLED
    assert await stock_of(sessions, variants) == [5]
    assert [r.status for r in await refund_rows(sessions)] == ["succeeded"]


async def test_a_second_payment_for_a_paid_order_is_given_back(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    await record_telegram_payment(sessions, placed.id, customer, "tg-1", "yk-1", placed.total)

    settled = await sync_payment(sessions, gateway, payment_id, "webhook")

    assert settled.outcome == Outcome.REFUNDING
    assert await order_status(sessions, placed.id) == S.PAID  # still paid by the Telegram payment
    (refund,) = await refund_rows(sessions)
    assert (refund.status, gateway.refunds[refund.provider_refund_id].payment_id) == (
        "succeeded",
        payment_id,
    )


async def test_a_refund_whose_answer_was_lost_is_sent_again_with_its_key(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    async with sessions() as session, session.begin():
        await transition(session, placed.id, S.CANCELLED, actor=f"customer:{customer}")
    gateway.lose_answers = 1
    await sync_payment(sessions, gateway, payment_id, "webhook")
    (refund,) = await refund_rows(sessions)
    assert refund.status == "creating"

    assert await run_queued_refunds(sessions, gateway) == []  # too fresh to retry
    sent = await run_queued_refunds(sessions, gateway, now=utcnow() + timedelta(minutes=1))

    assert sent == [refund.id]
    assert len(gateway.refunds) == 1
    assert gateway.keys[-2:] == [refund.idempotence_key] * 2
    assert [r.status for r in await refund_rows(sessions)] == ["succeeded"]


# -- the gateways ------------------------------------------------------------------------------


def test_gateways_hold_one_per_provider_and_route_telegram_refunds_to_yookassa(gateway):
    gateways = Gateways([gateway])

    assert dict(gateways) == {PaymentProvider.YOOKASSA: gateway}
    assert gateways.for_refunds_of(PaymentProvider.TELEGRAM) is gateway
    assert gateways.for_refunds_of(PaymentProvider.CASH) is None
    with pytest.raises(ValueError, match="two gateways"):
        Gateways([gateway, gateway])
