"""Support tickets: a complaint linked to an order (or to none), its whole transcript, and
where it lives in the moderator chat (a forum topic, or the card's message in a plain group).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import Base
from shop.models.types import JSONType, UTCDateTime, utcnow


class TicketStatus(StrEnum):
    OPEN = "open"
    """Waiting for staff."""
    ANSWERED = "answered"
    """Staff answered; waiting for the shopper, or nothing more to do."""
    RESOLVED = "resolved"
    """Staff resolved it; the shopper writing again within a week reopens it."""
    CLOSED = "closed"
    """The shopper closed it themselves."""


class Direction(StrEnum):
    SHOPPER = "in"
    STAFF = "out"
    NOTE = "note"
    """An internal note of staff: kept, never shown to the shopper."""
    EVENT = "event"
    """Something that happened to the ticket (taken, resolved...), for the transcript."""


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_customer", "customer_id", "id"),
        Index("ix_tickets_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    account: Mapped[str] = mapped_column(String(64))
    """The account it was opened from (``vk:42``): replies go back to that messenger."""
    status: Mapped[TicketStatus] = mapped_column(String(16), default=TicketStatus.OPEN)
    assignee: Mapped[str | None] = mapped_column(String(64))
    assignee_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The shopper's first message staff have not answered yet (None: nobody waits)."""
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    chat_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    thread_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Its forum topic in the moderator chat (0: none, a plain group, or not made yet)."""
    card_message_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class TicketMessage(Base):
    """One line of the transcript, both ways, whatever happens to the chat.

    ``chat_message_id`` is its message in the moderator chat (the relayed copy of a shopper's
    message, or the staff member's own): a reply to it there is routed by this id.
    """

    __tablename__ = "ticket_messages"
    __table_args__ = (
        Index("ix_ticket_messages_ticket", "ticket_id", "id"),
        Index("ix_ticket_messages_chat", "chat_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(64), default="")
    author_name: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    source_message_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The message's id in the chat it was written in (the shopper's, or the group)."""
    chat_message_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SupportChat(Base):
    """The moderator chat as it is now: a group upgraded to a supergroup gets a new id, and
    whether the bot was found unable to work there (owners are told once per problem)."""

    __tablename__ = "support_chat"

    id: Mapped[int] = mapped_column(primary_key=True)
    configured_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    current_id: Mapped[int] = mapped_column(BigInteger)
    problem: Mapped[str] = mapped_column(String(200), default="", server_default="")
    is_forum: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class SavedReply(Base):
    """A canned answer staff insert with a tap (/saved)."""

    __tablename__ = "saved_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
