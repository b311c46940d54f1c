"""Stock held by orders nobody has paid for yet: how much one shopper may hold, letting go.

One rule says which orders hold stock unpaid (`holding`): a card order still within its
reservation, and a cash-on-delivery order until it is shipped (it keeps its stock and never
expires). The cap on them (`check_hold_limits`) keeps one shopper from holding a variant's
whole stock with orders they never pay, again and again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop.cart import CartItem
from shop.errors import ShopError
from shop.models import (
    Customer,
    Order,
    OrderEventKind,
    OrderLine,
    OrderStatus,
    PaymentProvider,
)
from shop.models.types import utcnow
from shop.orders import RESERVING, transition

BATCH = 100
MAX_UNPAID_ORDERS = 3
MAX_UNITS_PER_SKU = 10


@dataclass(frozen=True)
class HoldLimits:
    """How much one shopper may hold unpaid at once: orders, and units of one variant."""

    orders: int = MAX_UNPAID_ORDERS
    units_per_sku: int = MAX_UNITS_PER_SKU


@dataclass(frozen=True)
class HeldOrder:
    """An order of the shopper's that holds stock unpaid, as the refusal shows it."""

    id: int
    total: int
    cash_on_delivery: bool


@dataclass(frozen=True)
class UnitsOver:
    """A cart line that would take the shopper past the units of one variant they may hold."""

    variant_id: int
    title: str
    wanted: int
    held: int


class HoldLimitReached(ShopError):
    """The new order would hold more unpaid stock than one shopper may.

    ``code`` is ``unpaid_orders_limit`` (too many orders) or ``units_limit`` (``over`` lists
    each line past the units of one variant); ``held`` is what the shopper holds already.
    """

    def __init__(
        self, code: str, limit: int, held: list[HeldOrder], over: Sequence[UnitsOver] = ()
    ) -> None:
        super().__init__(code, limit=limit, count=len(held))
        self.limit = limit
        self.held = held
        self.over = list(over)


def line_title(item: CartItem) -> str:
    """How an order line names what was bought: the product and its variant."""
    return f"{item.title} ({item.variant_label})" if item.variant_label else item.title


def holding(now: datetime) -> ColumnElement[bool]:
    """Orders that hold stock and are not paid: the one rule for the cap."""
    live_card_order = and_(
        Order.status.in_(list(RESERVING)),
        or_(Order.reserved_until.is_(None), Order.reserved_until > now),
    )
    cash_not_shipped = and_(
        Order.status == OrderStatus.ASSEMBLING, Order.payment_method == PaymentProvider.CASH
    )
    return and_(Order.stock_reserved.is_(True), or_(live_card_order, cash_not_shipped))


async def lock_shopper(session: AsyncSession, customer_id: int) -> None:
    """Hold the customer's row until the transaction ends: their checkouts go one at a time.

    A separate statement on purpose: on PostgreSQL a query that waited for a row lock still
    reads the other tables as they were when it started, so the count must come after.
    SQLite has one writer at a time anyway.
    """
    await session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


async def check_hold_limits(
    session: AsyncSession,
    customer_id: int,
    wanted: Sequence[CartItem],
    limits: HoldLimits,
    now: datetime,
) -> None:
    """Refuse (HoldLimitReached) an order that would take the shopper past ``limits``.

    The caller holds the customer's lock (`lock_shopper`), so two checkouts of one shopper
    at once cannot both pass the check on the same count.
    """
    rows = await session.execute(
        select(
            Order.id, Order.total, Order.payment_method, OrderLine.variant_id, OrderLine.quantity
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.customer_id == customer_id, holding(now))
        .order_by(Order.id)
    )
    held: dict[int, HeldOrder] = {}
    units: Counter[int] = Counter()
    for order_id, total, method, variant_id, quantity in rows:
        held[order_id] = HeldOrder(order_id, total, method == PaymentProvider.CASH)
        if variant_id is not None:
            units[variant_id] += quantity
    if len(held) >= limits.orders:
        raise HoldLimitReached("unpaid_orders_limit", limits.orders, list(held.values()))
    over = [
        UnitsOver(item.variant_id, line_title(item), item.quantity, units[item.variant_id])
        for item in wanted
        if units[item.variant_id] + item.quantity > limits.units_per_sku
    ]
    if over:
        raise HoldLimitReached("units_limit", limits.units_per_sku, list(held.values()), over)


async def cancel_unpaid_order(session: AsyncSession, order_id: int, customer_id: int) -> None:
    """The shopper lets go of their own order still waiting for a card payment.

    The stock goes back to the shelf; a payment that lands afterwards is given back by
    settlement (the order was cancelled by a person). Cash orders are staff's to cancel.
    """
    order = await session.get(Order, order_id)
    if order is None or order.customer_id != customer_id:
        raise ShopError("not_available")
    if order.status not in RESERVING or order.payment_method == PaymentProvider.CASH:
        raise ShopError("not_awaiting_payment", order_id=order_id)
    await transition(
        session,
        order_id,
        OrderStatus.CANCELLED,
        actor=f"customer:{customer_id}",
        kind=OrderEventKind.CANCELLED_BY_CUSTOMER,
        notify=False,
    )


async def expire_unpaid_orders(
    sessions: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> list[int]:
    """Cancel every unpaid order past its ``reserved_until``; return their ids.

    Each order is cancelled in its own transaction, so one failure does not hold back the rest
    and a payment that lands at the same moment wins or loses cleanly (conditional UPDATE).
    """
    now = now or utcnow()
    async with sessions() as session:
        due = list(
            (
                await session.execute(
                    select(Order.id)
                    .where(Order.status.in_(list(RESERVING)), Order.reserved_until < now)
                    .order_by(Order.id)
                    .limit(BATCH)
                )
            ).scalars()
        )
    expired = []
    for order_id in due:
        async with sessions() as session, session.begin():
            try:
                await transition(
                    session,
                    order_id,
                    OrderStatus.CANCELLED,
                    actor="system",
                    kind=OrderEventKind.EXPIRED,
                )
            except ShopError:  # paid or cancelled meanwhile
                continue
        expired.append(order_id)
    return expired
