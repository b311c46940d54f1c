"""The staff order desk: `/orders [status]`, `/order N`, the order card and its moves.

Written once for Telegram and VK private chats and the moderator chat. Buttons carry the
status the staff member saw, so a press on a stale card is refused with who moved the order;
every move is checked on the server (`ctx.require`) and audited by `shop.desk`.
`order_card` builds the card wherever it is shown (here, the posted alerts, tickets).
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import orders as shopper_orders
from handlers.context import AfterCommit, Ctx, Options, Router
from handlers.events import EventKind
from handlers.format import local_time, money, shorten
from handlers.screens import Button, Reply, Screen, rows
from handlers.texts import t
from shop import desk
from shop.billing.refunds import execute_refund
from shop.errors import ShopError
from shop.models import Order, OrderEvent, OrderStatus, Refund, Role
from shop.models.types import utcnow

router = Router()

S = OrderStatus
PAGE = 8
OPEN = (S.PAID, S.ASSEMBLING, S.SHIPPED)
"""What `/orders` lists without a status: the orders staff have work with."""
STATUS = "|".join(status.value for status in S)
ID = r"(\d{1,9})"
SEEN = f"({STATUS})"
MOVE_ACTIONS = {
    "take": "desk:take:{id}:{seen}",
    "ship": "desk:ship:{id}:{seen}",
    "deliver": "desk:deliver:{id}:{seen}",
    "cancel": "desk:cancel:{id}:{seen}",
    "refund": "desk:refund:{id}:{seen}",
    "cash_in": "desk:cash:{id}:{seen}",
    "cash_back": "desk:cashback:{id}:{seen}",
}


# --- the card ------------------------------------------------------------------------


async def order_card(
    session: AsyncSession, order_id: int, lang: str = "ru", headline: str | None = None
) -> Screen:
    """The staff card of an order with buttons for its next legal moves (a new message;
    callers showing it on a pressed button set ``replace``)."""
    found = await desk.load(session, order_id)
    return Screen(card_text(found, lang, headline), card_buttons(found, lang))


def card_text(found: desk.Desk, lang: str, headline: str | None = None) -> str:
    order = found.order
    lines = "\n".join(
        f"• {line.title} ({line.sku}) × {line.quantity} = {money(line.amount)}"
        for line in order.lines
    )
    accounts = ", ".join(
        f"{a.channel}:{a.external_id}" + (f" @{a.username}" if a.username else "")
        for a in found.accounts
    )
    text = t(
        lang,
        "desk.card",
        order_id=order.id,
        date=local_time(order.created_at),
        status=t(lang, f"status.{order.status}"),
        customer=found.customer.display_name or "—",
        accounts=accounts or "—",
        name=order.recipient_name,
        phone=order.phone,
        lines=lines,
        delivery=order.delivery_title,
        delivery_price=money(order.delivery_price),
        address=t(lang, "desk.card_address", address=order.address) if order.address else "",
        comment=t(lang, "desk.card_comment", comment=order.comment) if order.comment else "",
        total=money(order.total),
        payment=_payments(found, lang),
    )
    parts = [headline, text] if headline else [text]
    if order.tracking_number:
        carrier = f" ({order.carrier})" if order.carrier else ""
        parts.append(t(lang, "desk.card_tracking", number=order.tracking_number, carrier=carrier))
    if found.unreachable:
        parts.append(t(lang, "desk.unreachable"))
    history = [
        t(
            lang,
            "desk.history_line",
            date=local_time(event.created_at),
            status=t(lang, f"status.{event.to_status}"),
            actor=event.actor,
            note=f": {event.note}" if event.note else "",
        )
        for event in order.events[-10:]
    ]
    parts.append("\n".join([t(lang, "desk.history"), *history]))
    return "\n\n".join(parts)


def _payments(found: desk.Desk, lang: str) -> str:
    rows_ = []
    for payment in found.payments:
        row = t(
            lang,
            "desk.pay.row",
            provider=payment.provider,
            status=payment.status,
            amount=money(payment.amount),
        )
        if payment.refunded_amount:
            row += t(lang, "desk.pay.refunded", amount=money(payment.refunded_amount))
        rows_.append(row)
    for refund in found.refunds:
        rows_.append(
            t(
                lang,
                "desk.pay.refund_row",
                amount=money(refund.amount),
                status=refund.status,
                actor=refund.actor,
            )
        )
    return "; ".join(rows_) if rows_ else t(lang, "desk.pay.none")


def card_buttons(found: desk.Desk, lang: str) -> tuple[tuple[Button, ...], ...]:
    order = found.order
    moves = [
        Button(
            t(lang, f"desk.btn.{move}"),
            action=MOVE_ACTIONS[move].format(id=order.id, seen=order.status),
        )
        for move in desk.next_moves(found)
    ]
    pairs = [moves[i : i + 2] for i in range(0, len(moves), 2)]
    return rows(*pairs, [Button(t(lang, "desk.btn.list"), action="desk:l:open:1")])


async def _show_card(ctx: Ctx, order_id: int, headline: str | None = None) -> Reply:
    screen = await order_card(ctx.session, order_id, ctx.lang, headline)
    return ctx.screen(screen.text, *[list(row) for row in screen.buttons])


async def _staff(ctx: Ctx, what: str) -> None:
    """Only staff, and (in a group) only in the moderator chat."""
    await ctx.require(Role.STAFF, what)
    if ctx.event.place is not None and not ctx.in_moderator_chat:
        raise ShopError("not_allowed")


@router.action(rf"desk:o:{ID}")
async def open_card(ctx: Ctx, order_id: str) -> Reply:
    await _staff(ctx, f"open order {order_id}")
    ctx.state.step = None
    return await _show_card(ctx, int(order_id))


# --- /order and /orders --------------------------------------------------------------


@router.command("order")
async def order_command(ctx: Ctx) -> Reply:
    await _staff(ctx, "/order")
    number = ctx.event.text.strip().lstrip("№#")
    if not number.isdigit() or len(number) > 9:
        return ctx.screen(ctx.t("desk.bad_number"), [ctx.button("desk.btn.list", "desk:l:open:1")])
    return await _show_card(ctx, int(number))


@router.command("orders")
async def orders_command(ctx: Ctx) -> Reply:
    """Staff get the desk's list; anyone else their own orders (the shoppers' command)."""
    if ctx.event.place is None and await ctx.role() == Role.SHOPPER:
        return await shopper_orders.show_orders(ctx)
    await _staff(ctx, "/orders")
    wanted = ctx.event.text.strip().lower() or "open"
    if wanted not in ("open", "all") and wanted not in {s.value for s in S}:
        known = ", ".join(["open", "all", *(s.value for s in S)])
        return ctx.screen(ctx.t("desk.bad_filter", known=known))
    return await _list(ctx, wanted, 1)


@router.action(rf"desk:l:(open|all|{STATUS}):(\d{{1,4}})")
async def list_page(ctx: Ctx, wanted: str, page: str) -> Reply:
    await _staff(ctx, "order list")
    ctx.state.step = None
    return await _list(ctx, wanted, int(page))


async def _list(ctx: Ctx, wanted: str, page: int) -> Reply:
    """One page of orders, oldest first, each with how long it has waited in its status."""
    statuses = OPEN if wanted == "open" else tuple(S) if wanted == "all" else (S(wanted),)
    where = Order.status.in_([s.value for s in statuses])
    total = await ctx.session.scalar(select(func.count()).select_from(Order).where(where)) or 0
    filter_name = (
        ctx.t(f"desk.filter.{wanted}") if wanted in ("open", "all") else ctx.t(f"status.{wanted}")
    )
    if not total:
        return ctx.screen(ctx.t("desk.list_empty", filter=filter_name))
    pages = math.ceil(total / PAGE)
    page = min(max(page, 1), pages)
    since = (
        select(OrderEvent.order_id, func.max(OrderEvent.created_at).label("since"))
        .group_by(OrderEvent.order_id)
        .subquery()
    )
    found = await ctx.session.execute(
        select(Order.id, Order.status, Order.total, Order.created_at, since.c.since)
        .outerjoin(since, since.c.order_id == Order.id)
        .where(where)
        .order_by(Order.id)
        .offset((page - 1) * PAGE)
        .limit(PAGE)
    )
    now = utcnow()
    buttons = [
        [
            Button(
                ctx.t(
                    "desk.list_line",
                    order_id=order_id,
                    status=ctx.t(f"status.{status}"),
                    total=money(amount),
                    waiting=_waiting(ctx.lang, now, changed or created),
                ),
                action=f"desk:o:{order_id}",
            )
        ]
        for order_id, status, amount, created, changed in found
    ]
    paging = []
    if page > 1:
        paging.append(ctx.button("desk.btn.prev", f"desk:l:{wanted}:{page - 1}"))
    if page < pages:
        paging.append(ctx.button("desk.btn.next", f"desk:l:{wanted}:{page + 1}"))
    text = ctx.t("desk.list", filter=filter_name, total=total, page=page, pages=pages)
    return ctx.screen(text, *buttons, paging)


def _waiting(lang: str, now: datetime, since: datetime) -> str:
    minutes = max(int((now - since).total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return t(lang, "desk.wait.days", days=days, hours=hours)
    if hours:
        return t(lang, "desk.wait.hours", hours=hours, minutes=minutes)
    return t(lang, "desk.wait.minutes", minutes=minutes)


# --- moves ---------------------------------------------------------------------------


async def _done(ctx: Ctx, order_id: int) -> Reply:
    status = await ctx.session.scalar(select(Order.status).where(Order.id == order_id))
    toast = ctx.t("desk.done", order_id=order_id, status=ctx.t(f"status.{status}"))
    reply = await _show_card(ctx, order_id)
    reply.toast = toast
    return reply


@router.action(rf"desk:take:{ID}:{SEEN}")
async def take(ctx: Ctx, order_id: str, seen: str) -> Reply:
    await _staff(ctx, f"take order {order_id}")
    await desk.take(ctx.session, ctx.event.account, int(order_id), S(seen))
    return await _done(ctx, int(order_id))


@router.action(rf"desk:deliver:{ID}:{SEEN}")
async def deliver(ctx: Ctx, order_id: str, seen: str) -> Reply:
    await _staff(ctx, f"deliver order {order_id}")
    await desk.deliver(ctx.session, ctx.event.account, int(order_id), S(seen))
    return await _done(ctx, int(order_id))


@router.action(rf"desk:cash:{ID}:{SEEN}")
async def cash_in(ctx: Ctx, order_id: str, seen: str) -> Reply:
    await _staff(ctx, f"cash received for order {order_id}")
    await desk.cash_received(ctx.session, ctx.event.account, int(order_id), S(seen))
    return await _done(ctx, int(order_id))


@router.action(rf"desk:cashback:{ID}:{SEEN}")
async def cash_back(ctx: Ctx, order_id: str, seen: str) -> Reply:
    await _staff(ctx, f"cash back for order {order_id}")
    await desk.cash_back(ctx.session, ctx.event.account, int(order_id), S(seen))
    return await _done(ctx, int(order_id))


@router.action(rf"desk:ship:{ID}:{SEEN}")
async def ask_tracking(ctx: Ctx, order_id: str, seen: str) -> Reply:
    await _staff(ctx, f"ship order {order_id}")
    await _still(ctx, int(order_id), S(seen))
    ctx.state.step = f"desk:ship:{order_id}:{seen}"
    return _ask(ctx, "desk.ask_tracking", int(order_id))


@router.action(rf"desk:cancel:{ID}:{SEEN}")
async def ask_reason(ctx: Ctx, order_id: str, seen: str) -> Reply:
    await _staff(ctx, f"cancel order {order_id}")
    await _still(ctx, int(order_id), S(seen))
    ctx.state.step = f"desk:cancel:{order_id}:{seen}"
    return _ask(
        ctx,
        "desk.ask_reason",
        int(order_id),
        ctx.button("desk.btn.no_reason", f"desk:nr:{order_id}:{seen}"),
    )


def _ask(ctx: Ctx, key: str, order_id: int, *extra: Button) -> Reply:
    back = ctx.button("desk.btn.card", f"desk:o:{order_id}", order_id=order_id)
    return ctx.screen(ctx.t(key, order_id=order_id), list(extra), [back])


async def _still(ctx: Ctx, order_id: int, seen: OrderStatus) -> None:
    """Refuse at once a dialog about an order someone has moved since."""
    status = await ctx.session.scalar(select(Order.status).where(Order.id == order_id))
    if status is None:
        raise ShopError("not_available")
    if status != seen:
        who = await desk.who_moved(ctx.session, order_id)
        raise ShopError("moved_by", order_id=order_id, who=who, status=ctx.t(f"status.{status}"))


@router.action(rf"desk:nr:{ID}:{SEEN}")
async def cancel_without_reason(ctx: Ctx, order_id: str, seen: str) -> Reply:
    await _staff(ctx, f"cancel order {order_id}")
    ctx.state.step = None
    return await _cancel(ctx, int(order_id), S(seen), "")


@router.step("desk:")
async def dialog(ctx: Ctx) -> Reply:
    """The staff member's answer to "which tracking number" or "why cancel"."""
    if await ctx.role() == Role.SHOPPER:  # no longer staff: leave the dialog, politely
        ctx.state.step = None
        return ctx.screen(ctx.t("error.not_allowed"), [ctx.button("btn.menu", "m")])
    await _staff(ctx, "order dialog")
    _, what, order_id, seen = (ctx.state.step or "").split(":")
    if ctx.event.kind is not EventKind.TEXT or not ctx.event.text.strip():
        return _ask(ctx, f"desk.ask_{'tracking' if what == 'ship' else 'reason'}", int(order_id))
    ctx.state.step = None
    if what == "ship":
        number, carrier = desk.parse_tracking(ctx.event.text)
        await desk.ship(ctx.session, ctx.event.account, int(order_id), S(seen), number, carrier)
        return await _done(ctx, int(order_id))
    return await _cancel(ctx, int(order_id), S(seen), ctx.event.text)


async def _cancel(ctx: Ctx, order_id: int, seen: OrderStatus, reason: str) -> Reply:
    refund_id = await desk.cancel(ctx.session, ctx.event.account, order_id, seen, reason)
    if refund_id is not None:
        ctx.after_commit.append(_send_refund(refund_id))
    return await _done(ctx, order_id)


# --- refunds -------------------------------------------------------------------------


@router.action(rf"desk:refund:{ID}:{SEEN}")
async def refund_menu(ctx: Ctx, order_id: str, seen: str) -> Reply:
    await _staff(ctx, f"refund order {order_id}")
    await _still(ctx, int(order_id), S(seen))
    order = await ctx.session.get(Order, int(order_id))
    assert order is not None
    await ctx.session.refresh(order, ["lines"])
    lines = [
        [
            Button(
                ctx.t(
                    "desk.btn.refund_line",
                    title=shorten(line.title, 28),
                    quantity=line.quantity,
                ),
                action=f"desk:rl:{order_id}:{line.id}:{seen}",
            )
        ]
        for line in order.lines
    ]
    return ctx.screen(
        ctx.t("desk.refund_pick", order_id=order_id),
        [ctx.button("desk.btn.refund_all", f"desk:rw:{order_id}:{seen}")],
        *lines,
        [ctx.button("desk.btn.card", f"desk:o:{order_id}", order_id=order_id)],
    )


@router.action(rf"desk:rw:{ID}:{SEEN}")
async def refund_whole(ctx: Ctx, order_id: str, seen: str) -> Reply:
    await _staff(ctx, f"refund order {order_id}")
    return await _refund(ctx, int(order_id), S(seen), None)


@router.action(rf"desk:rl:{ID}:(\d{{1,9}}):{SEEN}")
async def refund_line(ctx: Ctx, order_id: str, line_id: str, seen: str) -> Reply:
    await _staff(ctx, f"refund a line of order {order_id}")
    order = await ctx.session.get(Order, int(order_id))
    if order is None:
        raise ShopError("not_available")
    await ctx.session.refresh(order, ["lines"])
    line = next((line for line in order.lines if line.id == int(line_id)), None)
    if line is None:
        raise ShopError("not_available")
    return await _refund(ctx, int(order_id), S(seen), {line.id: line.quantity})


async def _refund(
    ctx: Ctx, order_id: int, seen: OrderStatus, lines: dict[int, int] | None
) -> Reply:
    refund_id = await desk.refund(ctx.session, ctx.event.account, order_id, seen, lines)
    amount = await ctx.session.scalar(select(Refund.amount).where(Refund.id == refund_id))
    ctx.after_commit.append(_send_refund(refund_id))
    reply = await _show_card(ctx, order_id)
    reply.toast = ctx.t("desk.refund_queued", amount=money(amount or 0), order_id=order_id)
    return reply


def _send_refund(refund_id: int) -> AfterCommit:
    async def send(sessions: async_sessionmaker[AsyncSession], options: Options) -> None:
        if options.gateway is not None:
            await execute_refund(sessions, options.gateway, refund_id)

    return send


# --- the moderator chat --------------------------------------------------------------


@router.in_group
async def in_moderator_chat(ctx: Ctx) -> Reply | None:
    """Commands and dialog answers written in the moderator chat (nothing else here)."""
    if not ctx.in_moderator_chat:
        return None
    event = ctx.event
    if event.kind is EventKind.COMMAND and event.command in ("order", "orders"):
        return await router.commands[event.command](ctx)
    if (ctx.state.step or "").startswith("desk:") and event.kind is EventKind.TEXT:
        return await dialog(ctx)
    return None


__all__ = ["order_card", "router"]
