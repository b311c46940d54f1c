"""The order state machine: legal moves record history and outbox; illegal ones change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.errors import ShopError
from shop.models import Order, OrderEvent, OrderEventKind, OrderStatus, OutboxMessage
from shop.models.types import utcnow
from shop.orders import TRANSITIONS, transition
from shop.reservations import expire_unpaid_orders
from tests.core.helpers import checkout, fill_cart, new_customer, small_shop, stock_of

S = OrderStatus
# A path from a fresh order (awaiting payment) to every status.
PATH_TO = {
    S.AWAITING_PAYMENT: [],
    S.PAID: [S.PAID],
    S.ASSEMBLING: [S.PAID, S.ASSEMBLING],
    S.SHIPPED: [S.PAID, S.ASSEMBLING, S.SHIPPED],
    S.DELIVERED: [S.PAID, S.ASSEMBLING, S.SHIPPED, S.DELIVERED],
    S.CANCELLED: [S.CANCELLED],
    S.REFUNDED: [S.PAID, S.REFUNDED],
}
K = OrderEventKind


def _open(current: OrderStatus) -> set[OrderStatus]:
    """The moves anyone may make (guarded ones need their own kind of event)."""
    return {target for target, guard in TRANSITIONS[current].items() if guard is None}


LEGAL = [(a, b) for a in TRANSITIONS for b in sorted(_open(a)) if a is not S.NEW]
ILLEGAL = [(a, b) for a in PATH_TO for b in S if b not in _open(a) and b is not S.NEW]
GUARDED = [(a, b, guard) for a in TRANSITIONS for b, guard in TRANSITIONS[a].items() if guard]


async def _order_in(sessions, status: OrderStatus) -> tuple[Order, int]:
    (variant,) = await small_shop(sessions, [5])
    alice = await new_customer(sessions, 1)
    await fill_cart(sessions, alice, {variant: 2})
    order = await checkout(sessions, alice)
    for step in PATH_TO[status]:
        async with sessions() as session, session.begin():
            await transition(session, order.id, step, actor="staff:telegram:1")
    return order, variant


async def _counts(sessions, order_id: int) -> tuple[int, int]:
    async with sessions() as session:
        events = await session.scalar(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == order_id)
        )
        messages = await session.scalar(select(func.count()).select_from(OutboxMessage))
    return events, messages


@pytest.mark.parametrize(("current", "target"), LEGAL, ids=lambda s: s.value)
async def test_legal_transition_records_history_and_outbox(sessions, current, target):
    order, _ = await _order_in(sessions, current)
    events_before, messages_before = await _counts(sessions, order.id)
    async with sessions() as session, session.begin():
        await transition(session, order.id, target, actor="staff:telegram:7", note="ok")
    async with sessions() as session:
        stored = await session.get(Order, order.id)
        event = (
            await session.execute(select(OrderEvent).order_by(OrderEvent.id.desc()).limit(1))
        ).scalar_one()
        message = (
            await session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1))
        ).scalar_one()
    assert stored.status == target
    assert (event.actor, event.from_status, event.to_status, event.kind, event.note) == (
        "staff:telegram:7",
        current,
        target,
        K.STATUS_CHANGED,
        "ok",
    )
    assert message.customer_id == stored.customer_id
    assert (message.payload["status"], message.payload["kind"]) == (target.value, "status_changed")
    assert await _counts(sessions, order.id) == (events_before + 1, messages_before + 1)


@pytest.mark.parametrize(("current", "target"), ILLEGAL, ids=lambda s: s.value)
async def test_illegal_transition_is_refused_and_changes_nothing(sessions, current, target):
    order, _ = await _order_in(sessions, current)
    before = await _counts(sessions, order.id)
    with pytest.raises(ShopError) as error:
        async with sessions() as session, session.begin():
            await transition(session, order.id, target, actor="staff:telegram:7")
    assert error.value.code == "illegal_transition"
    assert error.value.params["current"] == current
    async with sessions() as session:
        assert (await session.get(Order, order.id)).status == current
    assert await _counts(sessions, order.id) == before


def test_the_payment_only_moves_are_guarded_by_their_event_kind():
    assert GUARDED == [
        (S.AWAITING_PAYMENT, S.ASSEMBLING, K.CASH_ON_DELIVERY),
        (S.CANCELLED, S.PAID, K.LATE_PAID),
    ]


@pytest.mark.parametrize(("current", "target", "kind"), GUARDED, ids=str)
async def test_a_guarded_move_is_taken_only_as_its_kind(sessions, current, target, kind):
    order, _ = await _order_in(sessions, current)
    with pytest.raises(ShopError) as error:
        async with sessions() as session, session.begin():
            await transition(session, order.id, target, actor="staff:telegram:7")
    assert error.value.code == "illegal_transition"
    async with sessions() as session, session.begin():
        await transition(session, order.id, target, actor="system", kind=kind)
    async with sessions() as session:
        assert (await session.get(Order, order.id)).status == target
        last = (
            await session.execute(select(OrderEvent).order_by(OrderEvent.id.desc()).limit(1))
        ).scalar_one()
    assert (last.from_status, last.to_status, last.kind) == (current, target, kind)


async def test_cancel_releases_stock_once(sessions):
    order, variant = await _order_in(sessions, S.AWAITING_PAYMENT)
    assert await stock_of(sessions, [variant]) == [3]
    async with sessions() as session, session.begin():
        await transition(session, order.id, S.CANCELLED, actor="customer:1")
    assert await stock_of(sessions, [variant]) == [5]


async def test_refund_after_shipping_does_not_restock(sessions):
    order, variant = await _order_in(sessions, S.SHIPPED)
    async with sessions() as session, session.begin():
        await transition(session, order.id, S.REFUNDED, actor="staff:telegram:1")
    assert await stock_of(sessions, [variant]) == [3]


async def test_refund_before_shipping_restocks(sessions):
    order, variant = await _order_in(sessions, S.PAID)
    async with sessions() as session, session.begin():
        await transition(session, order.id, S.REFUNDED, actor="staff:telegram:1")
    assert await stock_of(sessions, [variant]) == [5]


async def test_failure_after_outbox_row_rolls_back_both(sessions):
    order, _ = await _order_in(sessions, S.AWAITING_PAYMENT)
    before = await _counts(sessions, order.id)
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await transition(session, order.id, S.PAID, actor="system")
            raise RuntimeError("the process died before commit")
    async with sessions() as session:
        assert (await session.get(Order, order.id)).status == S.AWAITING_PAYMENT
    assert await _counts(sessions, order.id) == before


async def test_unpaid_order_expires_and_releases_stock(sessions):
    order, variant = await _order_in(sessions, S.AWAITING_PAYMENT)
    assert await expire_unpaid_orders(sessions, now=utcnow()) == []
    expired = await expire_unpaid_orders(sessions, now=utcnow() + timedelta(minutes=31))
    assert expired == [order.id]
    assert await stock_of(sessions, [variant]) == [5]
    async with sessions() as session:
        stored = await session.get(Order, order.id)
        message = (await session.execute(select(OutboxMessage))).scalar_one()
    assert stored.status == S.CANCELLED
    assert message.payload["kind"] == "expired"
    async with sessions() as session:
        kinds = (
            await session.scalars(
                select(OrderEvent.kind)
                .where(OrderEvent.order_id == order.id)
                .order_by(OrderEvent.id)
            )
        ).all()
    assert kinds == [K.PLACED, K.AWAITING_PAYMENT, K.EXPIRED]


async def test_paid_order_does_not_expire(sessions):
    _order, variant = await _order_in(sessions, S.PAID)
    assert await expire_unpaid_orders(sessions, now=utcnow() + timedelta(days=1)) == []
    assert await stock_of(sessions, [variant]) == [3]
