"""What staff see of a ticket in the moderator chat: its card, its topic's title, a
transcript summary; built from the database so a lost chat message is rebuilt the same."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.format import money, shorten
from handlers.screens import Button, Screen, rows
from handlers.texts import t
from shop.models import ChannelAccount, Customer, Direction, Payment, Ticket
from shop.models.types import utcnow
from shop.orders import get_order
from shop.support import tickets

LANG = "ru"
"""Staff read the chat in the shop's first language."""
CHANNEL_NAMES = {"telegram": "Telegram", "vk": "VK", "console": "Web"}
TITLE_LIMIT = 128
SUMMARY_LINES = 15


def duration(span: timedelta | None) -> str:
    """``7 мин`` or ``1 ч 5 мин``; a dash when there is none yet."""
    if span is None:
        return t(LANG, "chat.nobody")
    minutes = max(int(span.total_seconds() // 60), 0)
    if minutes < 60:
        return t(LANG, "chat.minutes", minutes=minutes)
    return t(LANG, "chat.hours", hours=minutes // 60, minutes=minutes % 60)


def channel_name(account: str) -> str:
    return CHANNEL_NAMES.get(account.partition(":")[0], account.partition(":")[0])


async def customer_name(session: AsyncSession, ticket: Ticket) -> str:
    name = await session.scalar(
        select(Customer.display_name).where(Customer.id == ticket.customer_id)
    )
    return name or f"#{ticket.customer_id}"


def _order_label(ticket: Ticket) -> str:
    if ticket.order_id is None:
        return t(LANG, "chat.title_no_order")
    return t(LANG, "chat.title_order", order_id=ticket.order_id)


def topic_title(ticket: Ticket, name: str) -> str:
    """``🔴 #12 · заказ 345 · Иван · VK``: the status is the first character."""
    title = t(
        LANG,
        "chat.title",
        icon=t(LANG, f"chat.status.{ticket.status}"),
        ticket_id=ticket.id,
        order=_order_label(ticket),
        name=shorten(name, 40),
        channel=channel_name(ticket.account),
    )
    return title[:TITLE_LIMIT]


def waiting_line(ticket: Ticket, name: str, now: datetime) -> str:
    """One line of /tickets: how long the shopper has waited (or that staff answered)."""
    waiting = (
        t(LANG, "chat.waiting", time=duration(now - ticket.waiting_since))
        if ticket.waiting_since is not None
        else t(LANG, "chat.answered")
    )
    return t(
        LANG,
        "chat.tickets_line",
        ticket_id=ticket.id,
        order=_order_label(ticket),
        name=name,
        channel=channel_name(ticket.account),
        waiting=waiting,
    )


async def open_tickets_text(session: AsyncSession, now: datetime | None = None) -> str:
    found = await tickets.open_tickets(session)
    if not found:
        return t(LANG, "chat.no_tickets")
    ids = {ticket.customer_id for ticket in found}
    rows_found = await session.execute(
        select(Customer.id, Customer.display_name).where(Customer.id.in_(ids))
    )
    names = {customer_id: name for customer_id, name in rows_found}
    now = now or utcnow()
    lines = [waiting_line(ticket, names.get(ticket.customer_id) or "?", now) for ticket in found]
    return t(LANG, "chat.tickets", lines="\n".join(lines))


async def _order_part(session: AsyncSession, order_id: int) -> str:
    order = await get_order(session, order_id)
    payment = await session.scalar(
        select(Payment).where(Payment.order_id == order_id).order_by(Payment.id.desc()).limit(1)
    )
    paid = (
        f"{payment.provider} · {payment.status} · {money(payment.amount)}"
        if payment is not None
        else t(LANG, "chat.no_payment")
    )
    lines = "\n".join(
        f"• {line.title} × {line.quantity} = {money(line.amount)}" for line in order.lines
    )
    return t(
        LANG,
        "chat.card_order",
        order_id=order.id,
        status=t(LANG, f"status.{order.status}"),
        total=money(order.total),
        lines=lines,
        payment=paid,
        delivery=f"{order.delivery_title} · {money(order.delivery_price)}",
    )


def card_buttons(ticket: Ticket) -> tuple[tuple[Button, ...], ...]:
    def button(key: str, action: str) -> Button:
        return Button(t(LANG, key), action=action)

    order = [button("btn.chat_order", f"desk:o:{ticket.order_id}")] if ticket.order_id else []
    refund = [button("btn.chat_refund", f"sup:refund:{ticket.id}")] if ticket.order_id else []
    return rows(
        [
            button("btn.chat_take", f"sup:take:{ticket.id}"),
            button("btn.chat_resolve", f"sup:done:{ticket.id}"),
        ],
        [button("btn.chat_compensate", f"sup:comp:{ticket.id}"), *refund],
        order,
    )


async def card(session: AsyncSession, ticket: Ticket) -> Screen:
    """The ticket card: customer, channel, accounts, the order, earlier tickets, buttons."""
    name = await customer_name(session, ticket)
    accounts = await session.execute(
        select(ChannelAccount.channel, ChannelAccount.external_id).where(
            ChannelAccount.customer_id == ticket.customer_id
        )
    )
    parts = [
        t(
            LANG,
            "chat.card",
            ticket_id=ticket.id,
            status=t(LANG, f"chat.status_name.{ticket.status}"),
            name=name,
            channel=channel_name(ticket.account),
            accounts=", ".join(f"{channel}:{ident}" for channel, ident in accounts),
            assignee=ticket.assignee_name or ticket.assignee or t(LANG, "chat.nobody"),
            first=duration(tickets.first_response(ticket)),
            resolution=duration(tickets.resolution(ticket)),
        )
    ]
    if ticket.order_id is not None:
        parts.append(await _order_part(session, ticket.order_id))
    else:
        parts.append(t(LANG, "chat.card_no_order"))
    earlier = await tickets.earlier_tickets(session, ticket)
    if earlier:
        listed = ", ".join(f"#{e.id} ({t(LANG, f'chat.status_name.{e.status}')})" for e in earlier)
        parts.append(t(LANG, "chat.card_earlier", tickets=listed))
    if ticket.rating is not None:
        comment = f" · {ticket.rating_comment}" if ticket.rating_comment else ""
        parts.append(t(LANG, "chat.card_rating", rating=ticket.rating, comment=comment))
    transcript = await tickets.transcript(session, ticket.id)
    first = next((m for m in transcript if m.direction == Direction.SHOPPER), None)
    if first is not None and first.text:
        parts.append(t(LANG, "chat.card_complaint", text=shorten(first.text, 1500)))
    return Screen("\n\n".join(parts), card_buttons(ticket))


async def summary(session: AsyncSession, ticket: Ticket) -> str:
    """The last lines of the transcript, for a topic made again after it was deleted."""
    messages = await tickets.transcript(session, ticket.id)
    shown = [
        m for m in messages if m.direction in (Direction.SHOPPER, Direction.STAFF, Direction.NOTE)
    ]
    lines = []
    for message in shown[-SUMMARY_LINES:]:
        marker = {"in": "👤", "out": "💬", "note": "📝"}[message.direction]
        media = " 📎" if message.media else ""
        lines.append(f"{marker} {message.author_name}: {shorten(message.text, 200)}{media}")
    return t(LANG, "chat.summary", lines="\n".join(lines) or t(LANG, "chat.nobody"))
