"""YooKassa payments end to end: the real SDK through YooKassaGateway against the emulator,
notifications arriving at the aiohttp route, the ledger and orders in a real database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from aiohttp import web
from sqlalchemy import select, update
from yookassa import Configuration

from bot.inbox import InboxWorker
from bot.payment_webhooks import YOOKASSA_PATH, add_yookassa_routes, poll_pending_payments
from payments.yookassa import YooKassaGateway
from shop.billing import (
    Outcome,
    PaymentRequest,
    PaymentStatus,
    Receipt,
    ReceiptLine,
    refund_order,
    start_payment,
    sync_payment,
)
from shop.errors import ShopError
from shop.models import Order, OrderEvent, OutboxMessage, Payment, Refund, Variant
from shop.models.types import utcnow
from shop.orders import get_order
from shop.reservations import expire_unpaid_orders
from tests.core.helpers import checkout, fill_cart, new_customer, small_shop
from tests.emulators.yookassa import YooKassaEmulator

RETURN_URL = "https://t.me/demo_shop_bot"


@pytest.fixture
async def emu() -> AsyncIterator[YooKassaEmulator]:
    async with YooKassaEmulator() as emulator:
        yield emulator


@pytest.fixture
def gateway(emu: YooKassaEmulator) -> YooKassaGateway:
    shop_id, secret_key = emu.create_shop()
    return YooKassaGateway(shop_id, secret_key, emu.api_url)


async def _serve(sessions, gateway, check_ip: bool) -> tuple[web.AppRunner, str]:
    app = web.Application()
    worker = InboxWorker(sessions)
    add_yookassa_routes(app, sessions, gateway, worker, check_ip=check_ip)
    runner = web.AppRunner(app, access_log=None)
    app.on_cleanup.append(lambda _app: worker.close())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}{YOOKASSA_PATH}"


@pytest.fixture
async def webhook(sessions, gateway, emu) -> AsyncIterator[str]:
    """The shop's notification route on 127.0.0.1, registered with the emulator."""
    runner, url = await _serve(sessions, gateway, check_ip=False)
    emu.set_notification_url(url)
    yield url
    await runner.cleanup()


@pytest.fixture
async def order(sessions):
    """A placed order of 2 units (200.00 RUB) and its customer."""
    (variant,) = await small_shop(sessions, [5])
    customer = await new_customer(sessions, 1)
    await fill_cart(sessions, customer, {variant: 2})
    placed = await checkout(sessions, customer)
    return placed, customer, variant


async def _pay(sessions, gateway, emu, order) -> str:
    placed, customer, _ = order
    url = await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    (payment_id,) = emu.payments
    assert url == emu.checkout_url(payment_id)
    return payment_id


async def _order_state(sessions, order_id: int) -> tuple[str, list[tuple[str, str]], list[str]]:
    """Status, history moves and the statuses the customer is told about."""
    async with sessions() as session:
        status = await session.scalar(select(Order.status).where(Order.id == order_id))
        moves = (
            await session.execute(
                select(OrderEvent.from_status, OrderEvent.to_status)
                .where(OrderEvent.order_id == order_id)
                .order_by(OrderEvent.id)
            )
        ).all()
        told = (
            await session.execute(
                select(OutboxMessage.payload)
                .where(OutboxMessage.recipient == "customer", OutboxMessage.kind == "order_status")
                .order_by(OutboxMessage.id)
            )
        ).scalars()
        return status, [tuple(move) for move in moves[2:]], [p["status"] for p in told]


def _posts_without_key(emu: YooKassaEmulator) -> list[str]:
    return [r.path for r in emu.requests if r.method == "POST" and not r.idempotence_key]


async def test_start_payment_sends_receipt_metadata_and_the_stored_key(
    sessions, gateway, emu, order
):
    placed, _, _ = order
    payment_id = await _pay(sessions, gateway, emu, order)

    record = emu.payments[payment_id]
    assert (record.amount, record.capture) == (Decimal("200.00"), True)
    assert record.description == f"Заказ №{placed.id}"
    assert record.metadata["order_id"] == str(placed.id)
    assert record.receipt["customer"] == {"phone": "79001234567"}
    assert [(i["description"], i["vat_code"]) for i in record.receipt["items"]] == [
        ("Товар (0)", 1)
    ]
    (create,) = [r for r in emu.requests if r.method == "POST"]
    async with sessions() as session:
        ledger = (await session.execute(select(Payment))).scalar_one()
    assert create.idempotence_key == ledger.idempotence_key
    assert (ledger.provider_payment_id, ledger.status) == (payment_id, "pending")


async def test_a_paid_notification_pays_the_order_and_tells_the_customer(
    sessions, gateway, emu, webhook, order
):
    placed, _, _ = order
    payment_id = await _pay(sessions, gateway, emu, order)
    emu.pay(payment_id)

    assert await emu.notify(payment_id) == 200

    assert await _order_state(sessions, placed.id) == (
        "paid",
        [("awaiting_payment", "paid")],
        ["paid"],
    )


async def test_the_same_notification_ten_times_pays_once(sessions, gateway, emu, webhook, order):
    placed, _, _ = order
    payment_id = await _pay(sessions, gateway, emu, order)
    emu.pay(payment_id)

    statuses = await asyncio.gather(*[emu.notify(payment_id) for _ in range(10)])

    assert statuses == [200] * 10
    assert await _order_state(sessions, placed.id) == (
        "paid",
        [("awaiting_payment", "paid")],
        ["paid"],
    )


async def test_the_gateway_reports_in_the_cores_statuses(sessions, gateway, emu, order):
    payment_id = await _pay(sessions, gateway, emu, order)
    assert (await gateway.get_payment(payment_id)).status is PaymentStatus.PENDING
    emu.pay(payment_id)
    assert (await gateway.get_payment(payment_id)).status is PaymentStatus.SUCCEEDED

    emu.payments[payment_id].status = "under_review"  # one this version does not know
    assert (await gateway.get_payment(payment_id)).status is None
    settled = await sync_payment(sessions, gateway, payment_id, "poll")

    assert settled.outcome == Outcome.UNCHANGED
    assert (await _order_state(sessions, order[0].id))[0] == "awaiting_payment"


async def test_a_late_canceled_notification_after_success_changes_nothing(
    sessions, gateway, emu, webhook, order
):
    placed, _, _ = order
    payment_id = await _pay(sessions, gateway, emu, order)
    stale = emu.payment(payment_id)
    emu.pay(payment_id)
    await emu.notify(payment_id)

    stale["status"] = "canceled"
    assert await emu.notify(payment_id, "payment.canceled", stale) == 200

    assert (await _order_state(sessions, placed.id))[0] == "paid"
    async with sessions() as session:
        assert (await session.execute(select(Payment.status))).scalar_one() == "succeeded"


async def test_forged_notifications_change_nothing(sessions, gateway, emu, webhook, order):
    placed, _, _ = order
    payment_id = await _pay(sessions, gateway, emu, order)
    claimed = emu.payment(payment_id) | {"status": "succeeded", "paid": True}
    unknown = claimed | {"id": "2d7c6a8e-000f-5000-8000-1a2b3c4d5e6f"}

    answers = [
        await emu.notify(payment_id, "payment.succeeded", claimed),  # the API says pending
        await emu.notify(payment_id, "payment.succeeded", unknown),
        await emu.notify_raw("{not json"),
        await emu.notify_raw({"type": "notification", "event": "payment.succeeded"}),
        await emu.notify_raw([1, 2, 3]),
    ]

    assert answers == [200, 200, 400, 400, 400]
    assert await _order_state(sessions, placed.id) == ("awaiting_payment", [], [])


async def test_untrusted_senders_are_refused_when_the_ip_check_is_on(sessions, gateway, emu, order):
    runner, url = await _serve(sessions, gateway, check_ip=True)
    try:
        payment_id = await _pay(sessions, gateway, emu, order)
        emu.pay(payment_id)
        status = await emu.notify_raw(
            {"type": "notification", "event": "payment.succeeded", "object": {}}, url=url
        )
    finally:
        await runner.cleanup()
    assert status == 403
    assert (await _order_state(sessions, order[0].id))[0] == "awaiting_payment"


@pytest.mark.parametrize("mode", ["timeout", "500"])
async def test_a_lost_create_answer_then_a_retry_makes_one_payment(
    sessions, gateway, emu, order, mode
):
    placed, customer, _ = order
    emu.fail_next_create(mode=mode)

    with pytest.raises(ShopError) as error:
        await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    url = await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)

    assert error.value.code == "payment_unavailable"
    (payment_id,) = emu.payments
    assert url == emu.checkout_url(payment_id)
    keys = [r.idempotence_key for r in emu.requests if r.method == "POST"]
    assert len(keys) == 2 and keys[0] == keys[1]


async def test_polling_settles_a_paid_payment_without_notifications(sessions, gateway, emu, order):
    placed, _, _ = order
    payment_id = await _pay(sessions, gateway, emu, order)
    assert await poll_pending_payments(sessions, gateway) == 0
    emu.pay(payment_id)

    assert await poll_pending_payments(sessions, gateway) == 1
    assert await poll_pending_payments(sessions, gateway) == 0

    assert (await _order_state(sessions, placed.id))[0] == "paid"
    assert emu.notifications == []


async def test_refunds_by_line_and_whole_reach_yookassa_and_the_order(
    sessions, gateway, emu, webhook, order
):
    placed, _, _ = order
    payment_id = await _pay(sessions, gateway, emu, order)
    emu.pay(payment_id)
    await emu.notify(payment_id)
    async with sessions() as session:
        (line,) = (await get_order(session, placed.id)).lines

    part = await refund_order(sessions, gateway, placed.id, "staff:telegram:9", {line.id: 1})
    rest = await refund_order(sessions, gateway, placed.id, "staff:telegram:9")

    assert (part.amount, part.status, part.order_status) == (10_000, "succeeded", "paid")
    assert (rest.amount, rest.status, rest.order_status) == (10_000, "succeeded", "refunded")
    assert emu.payments[payment_id].refunded_amount == Decimal("200.00")
    assert [Decimal(r.receipt["items"][0]["quantity"]) for r in emu.refunds.values()] == [1, 1]
    async with sessions() as session:
        refunds = (await session.execute(select(Refund).order_by(Refund.id))).scalars().all()
        ledger = (await session.execute(select(Payment))).scalar_one()
    assert {r.provider_refund_id for r in refunds} == set(emu.refunds)
    assert ledger.refunded_amount == placed.total
    for refund_id in emu.refunds:  # the refund.succeeded notifications change nothing more
        assert await emu.notify(refund_id) == 200
    assert await _order_state(sessions, placed.id) == (
        "refunded",
        [("awaiting_payment", "paid"), ("paid", "refunded")],
        ["paid", "refunded"],
    )
    assert _posts_without_key(emu) == []


async def test_a_late_payment_without_stock_is_refunded_at_yookassa(
    sessions, gateway, emu, webhook, order
):
    placed, _, variant = order
    payment_id = await _pay(sessions, gateway, emu, order)
    assert await expire_unpaid_orders(sessions, now=utcnow() + timedelta(hours=1))
    async with sessions() as session, session.begin():
        await session.execute(update(Variant).where(Variant.id == variant).values(stock=1))
    emu.pay(payment_id)

    assert await emu.notify(payment_id) == 200

    (refund,) = emu.refunds.values()
    assert (refund.payment_id, refund.amount) == (payment_id, Decimal("200.00"))
    assert (await _order_state(sessions, placed.id))[0] == "cancelled"
    async with sessions() as session:
        alert = (
            await session.execute(
                select(OutboxMessage.payload).where(OutboxMessage.kind == "staff_alert")
            )
        ).scalar_one()
    assert alert["reason"] == "late_payment_out_of_stock"
    assert _posts_without_key(emu) == []


async def test_a_notification_that_cannot_be_verified_gets_200_and_polling_settles_it(
    sessions, gateway, emu, order
):
    placed, _, _ = order
    payment_id = await _pay(sessions, gateway, emu, order)
    shop_id, _ = next(iter(emu.shops.items()))
    locked_out = YooKassaGateway(shop_id, "wrong-secret", emu.api_url)
    runner, url = await _serve(sessions, locked_out, check_ip=False)
    try:
        emu.pay(payment_id)
        emu.set_notification_url(url)
        assert await emu.notify(payment_id) == 200
    finally:
        await runner.cleanup()
    assert (await _order_state(sessions, placed.id))[0] == "awaiting_payment"

    assert await poll_pending_payments(sessions, gateway) == 1
    assert (await _order_state(sessions, placed.id))[0] == "paid"


async def test_two_gateways_never_mix_their_shops(emu):
    before = (Configuration.account_id, Configuration.secret_key, Configuration.api_url)
    first = YooKassaGateway(*emu.create_shop(), emu.api_url)
    second = YooKassaGateway(*emu.create_shop(), emu.api_url)
    receipt = Receipt("79001234567", (ReceiptLine("Товар", 1, 10_000),))
    request = PaymentRequest(1, 1, 10_000, "Заказ №1", RETURN_URL, receipt, "order-1-try-1")

    made = await asyncio.gather(first.create_payment(request), second.create_payment(request))

    assert len({emu.payments[payment.id].shop.shop_id for payment in made}) == 2
    assert await first.get_payment(made[1].id) is None
    assert (await first.get_payment(made[0].id)).amount == 10_000
    assert (Configuration.account_id, Configuration.secret_key, Configuration.api_url) == before


async def test_a_forged_flood_costs_no_lookups_and_the_genuine_one_is_settled(
    sessions, gateway, emu, webhook, order
):
    """40 notifications for payments that are not ours arrive with one real one: none of the
    forged ones reaches the API, the real one is settled by the time it is answered, once."""
    placed, _, _ = order
    payment_id = await _pay(sessions, gateway, emu, order)
    emu.pay(payment_id)
    genuine = emu.payment(payment_id)
    forged = [
        {**genuine, "id": f"2f{n:06d}-000f-5000-9000-{n:012d}", "metadata": {}} for n in range(40)
    ]
    bodies = [
        {"type": "notification", "event": "payment.succeeded", "object": obj} for obj in forged
    ]
    answers = await asyncio.gather(
        *(emu.notify_raw(body) for body in bodies[:20]),
        emu.notify(payment_id),
        *(emu.notify_raw(body) for body in bodies[20:]),
    )
    assert answers == [200] * 41
    looked_up = {r.path.rsplit("/", 1)[-1] for r in emu.requests if r.method == "GET"}
    assert looked_up == {payment_id}
    assert await _order_state(sessions, placed.id) == (
        "paid",
        [("awaiting_payment", "paid")],
        ["paid"],
    )
