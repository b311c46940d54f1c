"""The order state machine: an explicit transition table, history and outbox in one transaction."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from shop import outbox, promo, stock
from shop.errors import ShopError
from shop.models import Order, OrderEvent, OrderEventKind, OrderStatus

log = logging.getLogger(__name__)

S = OrderStatus
K = OrderEventKind

TRANSITIONS: dict[OrderStatus, dict[OrderStatus, OrderEventKind | None]] = {
    S.NEW: {S.AWAITING_PAYMENT: None, S.ASSEMBLING: None, S.CANCELLED: None},
    S.AWAITING_PAYMENT: {S.PAID: None, S.CANCELLED: None, S.ASSEMBLING: K.CASH_ON_DELIVERY},
    S.PAID: {S.ASSEMBLING: None, S.REFUNDED: None},
    S.ASSEMBLING: {S.SHIPPED: None, S.REFUNDED: None, S.CANCELLED: None},
    S.SHIPPED: {S.DELIVERED: None, S.REFUNDED: None},
    S.DELIVERED: {S.REFUNDED: None},
    S.CANCELLED: {S.PAID: K.LATE_PAID},
    S.REFUNDED: {},
}
"""Allowed moves. A guarded move (a kind instead of None) is taken only as that kind of
event, whose one caller checked its preconditions: ``awaiting_payment -> assembling`` is
cash on delivery (`shop.billing.cash`; staff may not assemble an unpaid card order),
``cancelled -> paid`` a payment after expiry with every line reserved again (settlement).
NEW → ASSEMBLING is the cash path of staff-made orders; ASSEMBLING → CANCELLED only for
unpaid ones."""

RESERVING = frozenset({S.NEW, S.AWAITING_PAYMENT})
NOT_YET_SHIPPED = frozenset({S.NEW, S.AWAITING_PAYMENT, S.PAID, S.ASSEMBLING})


def can_transition(
    current: OrderStatus, target: OrderStatus, kind: OrderEventKind = K.STATUS_CHANGED
) -> bool:
    """Whether the table allows the move, as an event of ``kind`` where it is guarded."""
    if target not in TRANSITIONS[current]:
        return False
    guard = TRANSITIONS[current][target]
    return guard is None or guard == kind


async def get_order(session: AsyncSession, order_id: int, customer_id: int | None = None) -> Order:
    """An order with lines and history; with ``customer_id``, only if it is theirs."""
    query = (
        select(Order)
        .where(Order.id == order_id)
        .options(selectinload(Order.lines), selectinload(Order.events))
    )
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    order = (await session.execute(query)).scalar_one_or_none()
    if order is None:
        raise ShopError("not_available")
    return order


async def list_orders(session: AsyncSession, customer_id: int, limit: int = 10) -> list[Order]:
    query = (
        select(Order).where(Order.customer_id == customer_id).order_by(Order.id.desc()).limit(limit)
    )
    return list((await session.execute(query)).scalars())


def record_event(
    session: AsyncSession,
    order: Order,
    *,
    actor: str,
    from_status: OrderStatus | None,
    to_status: OrderStatus,
    kind: OrderEventKind,
    note: str | None = None,
) -> None:
    """Append one history row (never updated afterwards)."""
    session.add(
        OrderEvent(
            order_id=order.id,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            kind=kind,
            note=note,
        )
    )


async def move(
    session: AsyncSession,
    order: Order,
    current: OrderStatus,
    target: OrderStatus,
    *,
    actor: str,
    kind: OrderEventKind,
    note: str | None = None,
    notify: bool = True,
    values: dict[str, Any] | None = None,
) -> None:
    """Change the status from ``current`` to ``target`` (and ``values``) by a conditional
    UPDATE, so two concurrent moves of one order cannot both succeed; record the history
    and the customer's outbox message. The caller has checked that the move is allowed.
    """
    values = values or {}
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
    record_event(
        session, order, actor=actor, from_status=current, to_status=target, kind=kind, note=note
    )
    if notify:
        outbox.enqueue(
            session,
            "order_status",
            {
                "order_id": order.id,
                "status": target.value,
                "previous": current.value,
                "kind": kind.value,
                "note": note,
            },
            customer_id=order.customer_id,
        )


async def transition(
    session: AsyncSession,
    order_id: int,
    target: OrderStatus,
    *,
    actor: str,
    kind: OrderEventKind = K.STATUS_CHANGED,
    note: str | None = None,
    notify: bool = True,
    values: dict[str, Any] | None = None,
) -> Order:
    """Move an order to ``target`` if the table allows it (as a ``kind`` event), recording
    history and the outbox; ``values`` are set on the order in the same UPDATE.

    Stock goes back when an order that holds it is cancelled or refunded before shipping.
    """
    order = await session.get(Order, order_id)
    if order is None:
        raise ShopError("not_available")
    current = OrderStatus(order.status)
    if not can_transition(current, target, kind):
        raise ShopError("illegal_transition", order_id=order_id, current=current, target=target)
    await move(
        session,
        order,
        current,
        target,
        actor=actor,
        kind=kind,
        note=note,
        notify=notify,
        values=values,
    )
    if target in (S.CANCELLED, S.REFUNDED) and current in NOT_YET_SHIPPED:
        await stock.release(session, order)
    if target == S.CANCELLED and current in RESERVING:  # unpaid: the promo code comes back
        await promo.release(session, order.id)
    if kind == K.LATE_PAID and order.discount and not await promo.retake(session, order.id):
        log.warning("order %s paid late with a promo code used again since", order.id)
    await session.flush()
    return order
