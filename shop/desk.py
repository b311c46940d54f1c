"""The order desk: what staff may do to an order next, and doing it once, audited.

Every move names the status the staff member saw (the card's button carries it): if the
order is no longer there, someone else moved it first and the second press is refused
with who did it. The status UPDATE itself is conditional (`shop.orders.move`), so two
presses at the same moment make one move. Each move is written to the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shop import audit
from shop.accounts import AccountRef
from shop.billing.history import history_entry
from shop.billing.refunds import REFUNDABLE_ORDER, queue_refund
from shop.errors import ShopError
from shop.models import (
    AuditEntry,
    ChannelAccount,
    Customer,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
    Refund,
)
from shop.orders import transition

S = OrderStatus
K = OrderEventKind
P = PaymentStatus

TRACKING_LINKS = {
    "pochta": "https://www.pochta.ru/tracking?barcode={number}",
    "cdek": "https://www.cdek.ru/ru/tracking?order_id={number}",
}
"""Carriers whose tracking page takes the number in its address."""
CARRIER_WORDS = {
    "почта": "pochta",
    "pochta": "pochta",
    "russianpost": "pochta",
    "сдэк": "cdek",
    "cdek": "cdek",
}
_TRACKING = re.compile(r"[A-Za-z0-9-]{4,40}")
_RUSSIAN_POST = re.compile(r"[A-Z]{2}\d{9}[A-Z]{2}|\d{14}")
MAX_REASON = 300


@dataclass(frozen=True)
class Desk:
    """An order as staff see it: the order (lines, history), who ordered, the ledger."""

    order: Order
    customer: Customer
    accounts: list[ChannelAccount]
    payments: list[Payment]
    refunds: list[Refund]

    @property
    def cash(self) -> Payment | None:
        return next((p for p in self.payments if p.provider == PaymentProvider.CASH), None)

    @property
    def paid_online(self) -> bool:
        return any(
            p.provider != PaymentProvider.CASH and p.status == P.SUCCEEDED for p in self.payments
        )

    @property
    def unreachable(self) -> bool:
        return bool(self.accounts) and not any(a.reachable for a in self.accounts)


async def load(session: AsyncSession, order_id: int) -> Desk:
    """Everything the staff card shows, in five queries whatever the order's size."""
    order = (
        await session.execute(
            select(Order)
            .where(Order.id == order_id)
            .options(selectinload(Order.lines), selectinload(Order.events))
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if order is None:
        raise ShopError("not_available")
    customer = await session.get(Customer, order.customer_id)
    assert customer is not None
    accounts = list(
        (
            await session.execute(
                select(ChannelAccount)
                .where(ChannelAccount.customer_id == customer.id)
                .order_by(ChannelAccount.last_seen_at.desc())
            )
        ).scalars()
    )
    payments = list(
        (
            await session.execute(
                select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
            )
        ).scalars()
    )
    refunds = list(
        (
            await session.execute(
                select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)
            )
        ).scalars()
    )
    return Desk(order, customer, accounts, payments, refunds)


def next_moves(desk: Desk) -> list[str]:
    """The moves staff may make now, by name (``take``, ``ship``, ``deliver``, ``cancel``,
    ``refund``, ``cash_in``, ``cash_back``), in the order the card shows them."""
    status = S(desk.order.status)
    cash = desk.cash
    moves = []
    if status == S.PAID:
        moves.append("take")
    if status == S.ASSEMBLING:
        moves.append("ship")
    if status == S.SHIPPED:
        moves.append("deliver")
    if cash is not None and cash.status == P.PENDING and status in REFUNDABLE_ORDER:
        moves.append("cash_in")
    if status in (S.NEW, S.AWAITING_PAYMENT) or (
        status in (S.PAID, S.ASSEMBLING) and (desk.paid_online or _cash_unpaid(cash))
    ):
        moves.append("cancel")
    if desk.paid_online and status in REFUNDABLE_ORDER:
        moves.append("refund")
    if cash is not None and cash.status == P.SUCCEEDED and status in REFUNDABLE_ORDER:
        moves.append("cash_back")
    return moves


def _cash_unpaid(cash: Payment | None) -> bool:
    return cash is not None and cash.status == P.PENDING


def tracking_link(carrier: str | None, number: str) -> str | None:
    """The carrier's tracking page for ``number``, where it has one."""
    template = TRACKING_LINKS.get(carrier or "")
    return template.format(number=number) if template else None


def parse_tracking(text: str) -> tuple[str, str | None]:
    """``"RA123456789RU"`` or ``"1234567890 сдэк"``: the number and the carrier's code.

    A Russian Post number is recognised by its shape when no carrier is named; an unknown
    carrier word is kept as no carrier (the shopper gets the number without a link).
    """
    words = text.strip().split()
    if not words or len(words) > 3:
        raise ShopError("bad_tracking")
    number = words[0].upper()
    if not _TRACKING.fullmatch(number):
        raise ShopError("bad_tracking")
    carrier = None
    for word in words[1:]:
        carrier = CARRIER_WORDS.get(word.lower().strip(".,"), carrier)
    if carrier is None and _RUSSIAN_POST.fullmatch(number):
        carrier = "pochta"
    return number, carrier


async def who_moved(session: AsyncSession, order_id: int) -> str:
    """Who made the order's latest move, as staff know them (name, else the account)."""
    actor = await session.scalar(
        select(OrderEvent.actor)
        .where(OrderEvent.order_id == order_id)
        .order_by(OrderEvent.id.desc())
        .limit(1)
    )
    if actor is None:
        return "?"
    channel, _, external = actor.partition(":")
    if external.lstrip("-").isdigit():
        name = await session.scalar(
            select(Customer.display_name)
            .join(ChannelAccount, ChannelAccount.customer_id == Customer.id)
            .where(ChannelAccount.channel == channel, ChannelAccount.external_id == int(external))
        )
        if name:
            return f"{name} ({actor})"
    return actor


async def _current(session: AsyncSession, order_id: int, seen: OrderStatus) -> Order:
    """The order, if it is still where the staff member saw it; else who moved it."""
    order = (
        await session.execute(
            select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if order is None:
        raise ShopError("not_available")
    if order.status != seen:
        await _moved_by_someone(session, order_id)
    return order


async def _moved_by_someone(session: AsyncSession, order_id: int) -> None:
    status = await session.scalar(select(Order.status).where(Order.id == order_id))
    raise ShopError(
        "moved_by", order_id=order_id, who=await who_moved(session, order_id), status=status
    )


async def _move(
    session: AsyncSession,
    actor: AccountRef,
    order_id: int,
    seen: OrderStatus,
    target: OrderStatus,
    *,
    kind: OrderEventKind = K.STATUS_CHANGED,
    note: str | None = None,
    values: dict[str, Any] | None = None,
) -> Order:
    order = await _current(session, order_id, seen)
    try:
        await transition(
            session, order.id, target, actor=str(actor), kind=kind, note=note, values=values
        )
    except ShopError as error:
        if error.code == "order_changed":
            await _moved_by_someone(session, order_id)
        raise
    await audit.record(
        session,
        actor,
        f"order.{target.value}",
        f"order:{order_id}",
        {"status": seen.value},
        {"status": target.value, **(values or {}), **({"note": note} if note else {})},
    )
    return order


async def take(session: AsyncSession, actor: AccountRef, order_id: int, seen: OrderStatus) -> None:
    """Start packing a paid order."""
    if seen != S.PAID:
        raise ShopError("illegal_transition")
    await _move(session, actor, order_id, seen, S.ASSEMBLING)


async def ship(
    session: AsyncSession,
    actor: AccountRef,
    order_id: int,
    seen: OrderStatus,
    number: str,
    carrier: str | None,
) -> None:
    """Hand the order to the carrier; the shopper gets the number (and link)."""
    values = {"tracking_number": number, "carrier": carrier}
    await _move(session, actor, order_id, seen, S.SHIPPED, values=values)


async def deliver(
    session: AsyncSession, actor: AccountRef, order_id: int, seen: OrderStatus
) -> None:
    await _move(session, actor, order_id, seen, S.DELIVERED)


async def cancel(
    session: AsyncSession, actor: AccountRef, order_id: int, seen: OrderStatus, reason: str
) -> int | None:
    """Cancel the order with a reason: an unpaid one at once (its stock goes back); a paid
    one by giving the whole payment back (it becomes refunded when the refund succeeds).
    Returns the refund to send after the commit, if one was queued."""
    reason = reason.strip()[:MAX_REASON]
    desk = await load(session, order_id)
    if desk.order.status != seen:
        await _moved_by_someone(session, order_id)
    if "cancel" not in next_moves(desk):
        raise ShopError("illegal_transition")
    if desk.paid_online:
        return await refund(session, actor, order_id, seen, reason=reason)
    await _move(session, actor, order_id, seen, S.CANCELLED, note=reason)
    cash = desk.cash
    if cash is not None:
        cash.status = P.CANCELED
        cash.history = [*cash.history, history_entry(P.CANCELED, str(actor), note=reason)]
    return None


async def refund(
    session: AsyncSession,
    actor: AccountRef,
    order_id: int,
    seen: OrderStatus,
    lines: dict[int, int] | None = None,
    *,
    reason: str | None = None,
) -> int:
    """Queue a refund of an order paid online, whole or by ``lines`` (line id -> quantity);
    the caller sends it once committed. A second press finds nothing left to give back."""
    order = await _current(session, order_id, seen)
    try:
        queued = await queue_refund(session, order.id, str(actor), lines, reason=reason)
    except ShopError as error:
        if error.code == "nothing_to_refund":
            who = await session.scalar(
                select(Refund.actor).where(Refund.order_id == order_id).order_by(Refund.id.desc())
            )
            if who is not None:
                raise ShopError("refunded_by", order_id=order_id, who=who) from error
        raise
    await audit.record(
        session,
        actor,
        "order.refund",
        f"order:{order_id}",
        {"status": seen.value},
        {"refund_id": queued.id, "amount": queued.amount, "lines": queued.lines},
    )
    return queued.id


async def _settle_cash(
    session: AsyncSession,
    actor: AccountRef,
    order_id: int,
    seen: OrderStatus,
    action: str,
    condition: Any,
    values: dict[str, Any],
) -> Payment:
    """Change the order's cash ledger row where ``condition`` still holds (a conditional
    UPDATE: two presses change it once, the second is told who did it)."""
    await _current(session, order_id, seen)
    cash = await session.scalar(
        select(Payment).where(
            Payment.order_id == order_id, Payment.provider == PaymentProvider.CASH
        )
    )
    if cash is None:
        raise ShopError("illegal_transition")
    changed = await session.execute(
        update(Payment)
        .where(Payment.id == cash.id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount == 0:  # type: ignore[attr-defined]
        who = await session.scalar(
            select(AuditEntry.actor)
            .where(AuditEntry.subject == f"order:{order_id}")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
        raise ShopError("moved_by", order_id=order_id, who=who or "?", status=seen)
    await session.refresh(cash)
    cash.history = [*cash.history, history_entry(str(cash.status), str(actor), cash.amount)]
    await audit.record(
        session, actor, action, f"order:{order_id}", {"cash": str(cash.status)}, values
    )
    return cash


async def cash_received(
    session: AsyncSession, actor: AccountRef, order_id: int, seen: OrderStatus
) -> None:
    """The courier brought the money: the cash ledger row is settled."""
    if seen not in REFUNDABLE_ORDER:
        raise ShopError("illegal_transition")
    pending = Payment.status == P.PENDING
    await _settle_cash(
        session, actor, order_id, seen, "cash.received", pending, {"status": P.SUCCEEDED}
    )


async def cash_back(
    session: AsyncSession, actor: AccountRef, order_id: int, seen: OrderStatus
) -> None:
    """Cash given back by hand: the ledger row records it and the order is refunded (its
    stock goes back if it never left)."""
    if seen not in REFUNDABLE_ORDER:
        raise ShopError("illegal_transition")
    order = await _current(session, order_id, seen)
    taken = (Payment.status == P.SUCCEEDED) & (Payment.refunded_amount == 0)
    await _settle_cash(
        session, actor, order_id, seen, "cash.refunded", taken, {"refunded_amount": order.total}
    )
    await _move(session, actor, order_id, seen, S.REFUNDED, kind=K.REFUNDED)
