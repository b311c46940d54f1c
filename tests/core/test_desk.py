"""The order desk in the core: staff moves happen once, audited; stale and concurrent presses
are told who moved the order; cancelling and refunding give stock and money back."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from shop import desk
from shop.accounts import AccountRef, Channel
from shop.billing import choose_cash_on_delivery, sync_payment
from shop.billing.refunds import execute_refund
from shop.billing.settlement import confirm_payment
from shop.cards import CARD
from shop.cart import get_cart, order_again
from shop.checkout import place_order
from shop.errors import ShopError
from shop.models import (
    AuditEntry,
    DeliveryMethod,
    OrderStatus,
    OutboxMessage,
    PaymentStatus,
    PostedCard,
    Variant,
)
from shop.reservations import expire_unpaid_orders
from tests.core.helpers import CONTACT, fill_cart, new_customer, small_shop, stock_of
from tests.core.payment_helpers import (
    ledger_rows,
    order_status,
    outbox_rows,
    pay_at_gateway,
    place_test_order,
)

S = OrderStatus
ANNA = AccountRef(Channel.TELEGRAM, 9001)
BORIS = AccountRef(Channel.VK, 9002)


async def _paid(sessions, gateway, stocks=(5,), quantities=(2,)):
    placed, customer, variants = await place_test_order(sessions, stocks, quantities)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    await sync_payment(sessions, gateway, payment_id, "webhook")
    return placed.id, customer, variants


async def _audit(sessions) -> list[tuple[str, str, str, dict | None, dict | None]]:
    async with sessions() as session:
        rows = await session.execute(
            select(
                AuditEntry.actor,
                AuditEntry.action,
                AuditEntry.subject,
                AuditEntry.before,
                AuditEntry.after,
            ).order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]


async def _cards(sessions) -> list[dict]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.kind == CARD)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def test_staff_take_ship_and_deliver_a_paid_order_audited(sessions, gateway):
    order_id, _, _ = await _paid(sessions, gateway)
    async with sessions() as session, session.begin():
        assert desk.next_moves(await desk.load(session, order_id)) == ["take", "cancel", "refund"]
        await desk.take(session, ANNA, order_id, S.PAID)
    async with sessions() as session, session.begin():
        assert desk.next_moves(await desk.load(session, order_id))[0] == "ship"
        number, carrier = desk.parse_tracking("RA123456789RU")
        await desk.ship(session, BORIS, order_id, S.ASSEMBLING, number, carrier)
    async with sessions() as session, session.begin():
        await desk.deliver(session, ANNA, order_id, S.SHIPPED)
        assert desk.next_moves(await desk.load(session, order_id)) == ["refund"]

    assert await order_status(sessions, order_id) == S.DELIVERED
    assert [row[:4] for row in await _audit(sessions)] == [
        ("telegram:9001", "order.assembling", f"order:{order_id}", {"status": "paid"}),
        ("vk:9002", "order.shipped", f"order:{order_id}", {"status": "assembling"}),
        ("telegram:9001", "order.delivered", f"order:{order_id}", {"status": "shipped"}),
    ]
    assert (await _audit(sessions))[1][4] == {
        "status": "shipped",
        "tracking_number": "RA123456789RU",
        "carrier": "pochta",
    }
    told = [p for r, k, p in await outbox_rows(sessions) if k == "order_status"]
    assert [p["status"] for p in told] == ["paid", "assembling", "shipped", "delivered"]
    assert (told[2]["tracking_number"], told[2]["carrier"]) == ("RA123456789RU", "pochta")
    # a card posted for the new order and its payment; every other change edits the cards
    assert [(c["reason"], c["post"]) for c in await _cards(sessions)] == [
        ("awaiting_payment", True),
        ("paid", True),
        ("status_changed", False),
        ("status_changed", False),
        ("status_changed", False),
    ]


async def test_a_stale_press_is_told_who_moved_the_order_and_changes_nothing(sessions, gateway):
    order_id, _, _ = await _paid(sessions, gateway)
    async with sessions() as session, session.begin():
        await desk.take(session, ANNA, order_id, S.PAID)
    with pytest.raises(ShopError) as refused:
        async with sessions() as session, session.begin():
            await desk.take(session, BORIS, order_id, S.PAID)
    assert refused.value.code == "moved_by"
    assert refused.value.params["who"] == "telegram:9001"
    assert [row[1] for row in await _audit(sessions)] == ["order.assembling"]


async def test_two_staff_pressing_at_once_make_one_move(sessions, gateway):
    order_id, _, _ = await _paid(sessions, gateway)

    async def press(who: AccountRef) -> str:
        try:
            async with sessions() as session, session.begin():
                await desk.take(session, who, order_id, S.PAID)
        except ShopError as error:
            return f"{error.code}:{error.params['who']}"
        return "moved"

    outcomes = await asyncio.gather(press(ANNA), press(BORIS))
    winner = "telegram:9001" if outcomes[0] == "moved" else "vk:9002"
    assert sorted(outcomes) == ["moved", f"moved_by:{winner}"]
    assert [row[0] for row in await _audit(sessions)] == [winner]
    assert await order_status(sessions, order_id) == S.ASSEMBLING


async def test_cancelling_an_unpaid_order_releases_its_stock_with_the_reason(sessions):
    placed, _, (variant,) = await place_test_order(sessions, (5,), (2,))
    assert await stock_of(sessions, [variant]) == [3]
    async with sessions() as session, session.begin():
        assert await desk.cancel(session, ANNA, placed.id, S.AWAITING_PAYMENT, "нет цвета") is None
    assert await order_status(sessions, placed.id) == S.CANCELLED
    assert await stock_of(sessions, [variant]) == [5]
    told = [p for _, k, p in await outbox_rows(sessions) if k == "order_status"]
    assert (told[-1]["status"], told[-1]["note"]) == ("cancelled", "нет цвета")


async def test_cancelling_a_paid_order_refunds_it_whole_and_releases_stock(sessions, gateway):
    order_id, _, (variant,) = await _paid(sessions, gateway)
    async with sessions() as session, session.begin():
        refund_id = await desk.cancel(session, ANNA, order_id, S.PAID, "брак")
    assert refund_id is not None
    await execute_refund(sessions, gateway, refund_id)
    assert await order_status(sessions, order_id) == S.REFUNDED
    assert await stock_of(sessions, [variant]) == [5]
    with pytest.raises(ShopError) as again:
        async with sessions() as session, session.begin():
            await desk.refund(session, BORIS, order_id, S.REFUNDED)
    assert again.value.code in ("not_refundable", "refunded_by")


async def test_refund_by_lines_through_the_refund_service(sessions, gateway):
    order_id, _, _ = await _paid(sessions, gateway, stocks=(5, 5), quantities=(2, 1))
    async with sessions() as session, session.begin():
        order = await desk.load(session, order_id)
        first = order.order.lines[0]
        refund_id = await desk.refund(session, ANNA, order_id, S.PAID, {first.id: first.quantity})
    await execute_refund(sessions, gateway, refund_id)
    assert await order_status(sessions, order_id) == S.PAID  # the rest is still paid for
    assert (await _audit(sessions))[-1][4]["amount"] == 20_000


async def _cash_order(sessions):
    (variant,) = await small_shop(sessions, [5])
    customer = await new_customer(sessions, 1)
    await fill_cart(sessions, customer, {variant: 1})
    async with sessions() as session, session.begin():
        method = DeliveryMethod(code="courier", title="Курьер", price=0, cash_on_delivery=True)
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
    await choose_cash_on_delivery(sessions, placed.id, customer)
    return placed.id, variant


async def test_cash_received_settles_the_ledger_once_and_cash_back_refunds(sessions):
    order_id, variant = await _cash_order(sessions)
    async with sessions() as session, session.begin():
        assert desk.next_moves(await desk.load(session, order_id)) == ["ship", "cash_in", "cancel"]
        await desk.cash_received(session, ANNA, order_id, S.ASSEMBLING)
    with pytest.raises(ShopError) as second:
        async with sessions() as session, session.begin():
            await desk.cash_received(session, BORIS, order_id, S.ASSEMBLING)
    assert (second.value.code, second.value.params["who"]) == ("moved_by", "telegram:9001")
    (cash,) = await ledger_rows(sessions)
    assert (cash.provider, cash.status) == ("cash", PaymentStatus.SUCCEEDED)
    async with sessions() as session, session.begin():
        await desk.cash_back(session, ANNA, order_id, S.ASSEMBLING)
    (cash,) = await ledger_rows(sessions)
    assert cash.refunded_amount == cash.amount
    assert await order_status(sessions, order_id) == S.REFUNDED
    assert await stock_of(sessions, [variant]) == [5]
    assert [row[1] for row in await _audit(sessions)] == [
        "cash.received",
        "cash.refunded",
        "order.refunded",
    ]


async def test_an_unpaid_cash_order_is_cancelled_with_its_ledger_row(sessions):
    order_id, variant = await _cash_order(sessions)
    async with sessions() as session, session.begin():
        await desk.cancel(session, ANNA, order_id, S.ASSEMBLING, "")
    (cash,) = await ledger_rows(sessions)
    assert cash.status == PaymentStatus.CANCELED
    assert await stock_of(sessions, [variant]) == [5]


async def test_tracking_numbers_and_links():
    assert desk.parse_tracking("ra123456789ru") == ("RA123456789RU", "pochta")
    assert desk.parse_tracking("1234567890 СДЭК") == ("1234567890", "cdek")
    assert desk.parse_tracking("ABC-1234 boxberry") == ("ABC-1234", None)
    for bad in ("", "a b c d", "<script>", "x" * 60):
        with pytest.raises(ShopError):
            desk.parse_tracking(bad)
    assert desk.tracking_link("pochta", "RA1") == "https://www.pochta.ru/tracking?barcode=RA1"
    assert desk.tracking_link("cdek", "12") == "https://www.cdek.ru/ru/tracking?order_id=12"
    assert desk.tracking_link(None, "12") is None


async def test_a_declined_payment_is_told_with_the_order(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    gateway.pay(payment_id, "canceled")
    found = gateway.payments[payment_id]
    await confirm_payment(sessions, gateway.provider, payment_id, found.status, found.amount, "x")
    told = [(k, p) for _, k, p in await outbox_rows(sessions) if k == "payment_declined"]
    assert told == [("payment_declined", {"order_id": placed.id, "payment_id": 1})]


async def test_order_the_same_again_is_capped_by_stock(sessions):
    placed, customer, (variant,) = await place_test_order(sessions, (3,), (2,))
    await expire_unpaid_orders(sessions, now=placed.reserved_until.replace(year=2100))
    async with sessions() as session, session.begin():
        await session.execute(update(Variant).where(Variant.id == variant).values(stock=1))
    async with sessions() as session, session.begin():
        assert await order_again(session, customer, placed.id) == (2, 1)
    async with sessions() as session:
        cart = await get_cart(session, customer)
    assert [(item.variant_id, item.quantity) for item in cart.items] == [(variant, 1)]
    with pytest.raises(ShopError):  # someone else's order
        async with sessions() as session, session.begin():
            await order_again(session, customer + 100, placed.id)


async def test_posted_cards_are_kept_per_order(sessions):
    placed, _, _ = await place_test_order(sessions)
    async with sessions() as session, session.begin():
        session.add(PostedCard(order_id=placed.id, channel="telegram", chat_id=-5, message_id=7))
    async with sessions() as session:
        (card,) = (await session.scalars(select(PostedCard))).all()
    assert (card.order_id, card.chat_id, card.message_id) == (placed.id, -5, 7)
