"""Tickets: opening, the transcript both ways, statuses and times, and what goes to the chat.

Every change writes its outbox messages in the same transaction: ``support.*`` kinds go to
the moderator chat (a courier in bot/ places them in the ticket's topic or under its card),
``support.out`` goes back to the account the ticket came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop import outbox
from shop.accounts import AccountRef
from shop.errors import ShopError
from shop.models import Direction, Order, Ticket, TicketMessage, TicketStatus
from shop.models.types import utcnow

REOPEN_WITHIN = timedelta(days=7)
OPEN_KIND = "support.open"
"""Create the ticket's topic (forum) and post its card."""
IN_KIND = "support.in"
"""Relay a shopper's message into the ticket's place in the chat."""
OUT_KIND = "support.out"
"""Relay a staff message to the shopper, in their own messenger."""
STATUS_KIND = "support.status"
"""Show the ticket's new status in its topic's title."""
POST_KIND = "support.post"
"""A line of the bot's own in the ticket's place (an SLA reminder, who took it...)."""
MAX_TEXT = 4000
ACTIVE = (TicketStatus.OPEN, TicketStatus.ANSWERED)


@dataclass(frozen=True)
class Media:
    """A photo or file as the transcript keeps it: the sending channel's own reference."""

    kind: str
    ref: str
    name: str = ""
    channel: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "name": self.name, "channel": self.channel}


def _to_chat(session: AsyncSession, kind: str, ticket: Ticket, **payload: Any) -> None:
    outbox.enqueue(
        session,
        kind,
        {"ticket_id": ticket.id, **payload},
        customer_id=ticket.customer_id,
        recipient=outbox.MODERATORS,
    )


def _message(
    session: AsyncSession,
    ticket: Ticket,
    direction: Direction,
    *,
    author: str = "",
    author_name: str = "",
    text: str = "",
    media: tuple[Media, ...] = (),
    source_message_id: int = 0,
    chat_message_id: int = 0,
    now: datetime | None = None,
) -> TicketMessage:
    row = TicketMessage(
        ticket_id=ticket.id,
        direction=direction,
        author=author,
        author_name=author_name[:200],
        text=text[:MAX_TEXT],
        media=[m.as_json() for m in media] or None,
        source_message_id=source_message_id,
        chat_message_id=chat_message_id,
        created_at=now or utcnow(),
    )
    session.add(row)
    return row


async def open_ticket(
    session: AsyncSession,
    customer_id: int,
    account: AccountRef,
    order_id: int | None,
    text: str,
    media: tuple[Media, ...] = (),
    *,
    author_name: str = "",
    source_message_id: int = 0,
    now: datetime | None = None,
) -> Ticket:
    """A new ticket with the shopper's first message; the chat gets its card (and topic)."""
    now = now or utcnow()
    if order_id is not None:
        owner = await session.scalar(select(Order.customer_id).where(Order.id == order_id))
        if owner != customer_id:
            raise ShopError("not_available")
    ticket = Ticket(
        customer_id=customer_id,
        order_id=order_id,
        account=str(account),
        status=TicketStatus.OPEN,
        created_at=now,
        waiting_since=now,
    )
    session.add(ticket)
    await session.flush()
    first = _message(
        session,
        ticket,
        Direction.SHOPPER,
        author=str(account),
        author_name=author_name,
        text=text,
        media=media,
        source_message_id=source_message_id,
        now=now,
    )
    await session.flush()
    _to_chat(session, OPEN_KIND, ticket)
    if media:
        _to_chat(session, IN_KIND, ticket, message_id=first.id)
    return ticket


async def active_ticket(
    session: AsyncSession, customer_id: int, now: datetime | None = None
) -> Ticket | None:
    """The ticket the shopper's free text goes to: open, or resolved within a week."""
    latest = await session.scalar(
        select(Ticket).where(Ticket.customer_id == customer_id).order_by(Ticket.id.desc()).limit(1)
    )
    if latest is None or latest.status == TicketStatus.CLOSED:
        return None
    if latest.status == TicketStatus.RESOLVED:
        resolved = latest.resolved_at or latest.created_at
        if (now or utcnow()) - resolved > REOPEN_WITHIN:
            return None
    return latest


async def add_shopper_message(
    session: AsyncSession,
    ticket: Ticket,
    account: AccountRef,
    text: str,
    media: tuple[Media, ...] = (),
    *,
    author_name: str = "",
    source_message_id: int = 0,
    now: datetime | None = None,
) -> bool:
    """Add the shopper's follow-up and relay it; True if it reopened a resolved ticket."""
    now = now or utcnow()
    reopened = ticket.status == TicketStatus.RESOLVED
    if reopened:
        ticket.status = TicketStatus.OPEN
        ticket.resolved_at = None
        _to_chat(session, STATUS_KIND, ticket)
    if ticket.waiting_since is None:
        ticket.waiting_since = now
    row = _message(
        session,
        ticket,
        Direction.SHOPPER,
        author=str(account),
        author_name=author_name,
        text=text,
        media=media,
        source_message_id=source_message_id,
        now=now,
    )
    await session.flush()
    _to_chat(session, IN_KIND, ticket, message_id=row.id)
    return reopened


async def staff_reply(
    session: AsyncSession,
    ticket: Ticket,
    actor: AccountRef,
    name: str,
    text: str,
    media: tuple[Media, ...] = (),
    *,
    chat_message_id: int = 0,
    now: datetime | None = None,
) -> TicketMessage:
    """A staff answer: kept, relayed to the shopper's messenger, the clock stopped."""
    now = now or utcnow()
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.waiting_since = None
    if ticket.status == TicketStatus.OPEN:
        ticket.status = TicketStatus.ANSWERED
        _to_chat(session, STATUS_KIND, ticket)
    row = _message(
        session,
        ticket,
        Direction.STAFF,
        author=str(actor),
        author_name=name,
        text=text,
        media=media,
        source_message_id=chat_message_id,
        chat_message_id=chat_message_id,
        now=now,
    )
    await session.flush()
    outbox.enqueue(
        session,
        OUT_KIND,
        {"ticket_id": ticket.id, "message_id": row.id},
        customer_id=ticket.customer_id,
        recipient=ticket.account,
    )
    return row


def add_note(
    session: AsyncSession,
    ticket: Ticket,
    actor: AccountRef,
    name: str,
    text: str,
    *,
    chat_message_id: int = 0,
    now: datetime | None = None,
) -> TicketMessage:
    """An internal note: in the transcript, never relayed."""
    return _message(
        session,
        ticket,
        Direction.NOTE,
        author=str(actor),
        author_name=name,
        text=text,
        chat_message_id=chat_message_id,
        now=now,
    )


def note_event(
    session: AsyncSession, ticket: Ticket, actor: AccountRef, name: str, what: str
) -> None:
    """Something staff did to the ticket (a code issued...), for the transcript."""
    _message(session, ticket, Direction.EVENT, author=str(actor), author_name=name, text=what)


def take(session: AsyncSession, ticket: Ticket, actor: AccountRef, name: str) -> None:
    ticket.assignee = str(actor)
    ticket.assignee_name = name[:200]
    _message(session, ticket, Direction.EVENT, author=str(actor), author_name=name, text="take")


def resolve(
    session: AsyncSession,
    ticket: Ticket,
    actor: AccountRef,
    name: str,
    now: datetime | None = None,
) -> None:
    """Resolved by staff (the shopper is asked to rate by the caller)."""
    if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise ShopError("support.already_resolved")
    ticket.status = TicketStatus.RESOLVED
    ticket.resolved_at = now or utcnow()
    ticket.waiting_since = None
    _message(session, ticket, Direction.EVENT, author=str(actor), author_name=name, text="resolve")
    _to_chat(session, STATUS_KIND, ticket)


def close_by_shopper(session: AsyncSession, ticket: Ticket, now: datetime | None = None) -> None:
    if ticket.status != TicketStatus.RESOLVED:
        ticket.resolved_at = now or utcnow()
    ticket.status = TicketStatus.CLOSED
    ticket.waiting_since = None
    _message(session, ticket, Direction.EVENT, author=ticket.account, text="closed by shopper")
    _to_chat(session, STATUS_KIND, ticket)


async def customer_ticket(session: AsyncSession, ticket_id: int, customer_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or ticket.customer_id != customer_id:
        raise ShopError("not_available")
    return ticket


async def get_ticket(session: AsyncSession, ticket_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise ShopError("not_available")
    return ticket


async def rate(session: AsyncSession, ticket: Ticket, rating: int) -> None:
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED) or not 1 <= rating <= 5:
        raise ShopError("not_available")
    ticket.rating = rating


async def find_in_chat(
    session: AsyncSession, chat_id: int, thread_id: int, reply_to: int
) -> Ticket | None:
    """The ticket a message in the moderator chat belongs to: its forum topic, else the
    message it replies to (the card, or any message relayed for that ticket)."""
    if thread_id:
        found = await session.scalar(
            select(Ticket).where(Ticket.chat_id == chat_id, Ticket.thread_id == thread_id)
        )
        if found is not None or not reply_to:
            return found
    if not reply_to:
        return None
    return await session.scalar(
        select(Ticket)
        .outerjoin(TicketMessage, TicketMessage.ticket_id == Ticket.id)
        .where(
            Ticket.chat_id == chat_id,
            or_(Ticket.card_message_id == reply_to, TicketMessage.chat_message_id == reply_to),
        )
        .limit(1)
    )


async def open_tickets(session: AsyncSession, limit: int = 30) -> list[Ticket]:
    """Tickets not yet resolved, oldest first."""
    query = select(Ticket).where(Ticket.status.in_(ACTIVE)).order_by(Ticket.created_at).limit(limit)
    return list((await session.scalars(query)).all())


async def earlier_tickets(session: AsyncSession, ticket: Ticket, limit: int = 5) -> list[Ticket]:
    query = (
        select(Ticket)
        .where(Ticket.customer_id == ticket.customer_id, Ticket.id < ticket.id)
        .order_by(Ticket.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def transcript(session: AsyncSession, ticket_id: int) -> list[TicketMessage]:
    query = (
        select(TicketMessage).where(TicketMessage.ticket_id == ticket_id).order_by(TicketMessage.id)
    )
    return list((await session.scalars(query)).all())


async def raise_overdue(
    session: AsyncSession, minutes: int, now: datetime | None = None
) -> list[Ticket]:
    """Tickets whose shopper waits longer than ``minutes``, each raised once per wait."""
    now = now or utcnow()
    query = (
        select(Ticket)
        .where(
            Ticket.status.in_(ACTIVE),
            Ticket.waiting_since.is_not(None),
            Ticket.waiting_since < now - timedelta(minutes=minutes),
            or_(Ticket.sla_raised_at.is_(None), Ticket.sla_raised_at < Ticket.waiting_since),
        )
        .order_by(Ticket.waiting_since)
        .with_for_update(skip_locked=True)
    )
    raised = list((await session.scalars(query)).all())
    for ticket in raised:
        ticket.sla_raised_at = now
        waited = int((now - (ticket.waiting_since or now)).total_seconds() // 60)
        _to_chat(session, POST_KIND, ticket, what="sla", minutes=waited)
    return raised


def first_response(ticket: Ticket) -> timedelta | None:
    if ticket.first_response_at is None:
        return None
    return ticket.first_response_at - ticket.created_at


def resolution(ticket: Ticket) -> timedelta | None:
    if ticket.resolved_at is None:
        return None
    return ticket.resolved_at - ticket.created_at
