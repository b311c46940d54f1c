"""The order state machine: an explicit transition table, history and outbox in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from shop import outbox
from shop.errors import ShopError
from shop.models import Order, OrderEvent, OrderLine, OrderStatus, Variant

S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.AWAITING_PAYMENT, S.ASSEMBLING, S.CANCELLED}),
    S.AWAITING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.ASSEMBLING, S.REFUNDED}),
    S.ASSEMBLING: frozenset({S.SHIPPED, S.REFUNDED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED}),
    S.DELIVERED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}
"""NEW → ASSEMBLING is the cash-on-delivery path; ASSEMBLING → CANCELLED only for unpaid ones."""

RESERVING = frozenset({S.NEW, S.AWAITING_PAYMENT})
NOT_YET_SHIPPED = frozenset({S.NEW, S.AWAITING_PAYMENT, S.PAID, S.ASSEMBLING})


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[current]


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
    note: str | None = None,
) -> None:
    session.add(
        OrderEvent(
            order_id=order.id, actor=actor, from_status=from_status, to_status=to_status, note=note
        )
    )


async def release_stock(session: AsyncSession, order: Order) -> None:
    """Give the order's units back to the shelf, once (guarded by ``stock_reserved``)."""
    claimed = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.stock_reserved.is_(True))
        .values(stock_reserved=False)
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        return
    lines = (
        await session.execute(
            select(OrderLine.variant_id, OrderLine.quantity)
            .where(OrderLine.order_id == order.id, OrderLine.variant_id.is_not(None))
            .order_by(OrderLine.variant_id)
        )
    ).all()
    for variant_id, quantity in lines:
        await session.execute(
            update(Variant).where(Variant.id == variant_id).values(stock=Variant.stock + quantity)
        )


async def move(
    session: AsyncSession,
    order: Order,
    current: OrderStatus,
    target: OrderStatus,
    *,
    actor: str,
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
    record_event(session, order, actor=actor, from_status=current, to_status=target, note=note)
    if notify:
        outbox.enqueue(
            session,
            "order_status",
            {"order_id": order.id, "status": target.value, "previous": current.value, "note": note},
            customer_id=order.customer_id,
        )


async def transition(
    session: AsyncSession,
    order_id: int,
    target: OrderStatus,
    *,
    actor: str,
    note: str | None = None,
    notify: bool = True,
) -> Order:
    """Move an order to ``target`` if the table allows it, recording history and the outbox.

    Stock goes back when an order that holds it is cancelled or refunded before shipping.
    """
    order = await session.get(Order, order_id)
    if order is None:
        raise ShopError("not_available")
    current = OrderStatus(order.status)
    if not can_transition(current, target):
        raise ShopError("illegal_transition", order_id=order_id, current=current, target=target)
    await move(session, order, current, target, actor=actor, note=note, notify=notify)
    if target in (S.CANCELLED, S.REFUNDED) and current in NOT_YET_SHIPPED:
        await release_stock(session, order)
    await session.flush()
    return order
