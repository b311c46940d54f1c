"""Plumbing tables: the inbox, the outbox, conversation state and poll positions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import Base
from shop.models.types import JSONType, UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    """Gave up after MAX_ATTEMPTS tries; staff were told."""


class OutboxMessage(Base):
    """Something to tell someone, written in the same transaction as the change it reports.

    ``recipient`` is either ``customer`` (then ``customer_id`` says who; the dispatcher picks
    their channel) or an account reference such as ``telegram:-100123`` (the moderator chat).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(64), default="customer")
    kind: Mapped[str] = mapped_column(String(48))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConversationState(Base):
    """Where a customer is in a conversation (checkout step, drafts); survives restarts."""

    __tablename__ = "conversation_states"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[str | None] = mapped_column(String(48))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    PARKED = "parked"


class InboxEvent(Base):
    """An incoming event, stored raw before the platform is told it arrived.

    ``(source, event_id)`` drops a redelivered event; ``lane`` names whose events must be
    handled one at a time and in ``id`` order (a person's account, or a payment). A row is
    marked done in the transaction that applies its effects, so a crash leaves it pending.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("source", "event_id"),
        Index(
            "ix_inbox_pending_lane",
            "lane",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_inbox_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(96))
    lane: Mapped[str] = mapped_column(String(96))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[InboxStatus] = mapped_column(String(16), default=InboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PollPosition(Base):
    """Where a long poll stands (VK's ``ts``), saved with the events it delivered."""

    __tablename__ = "poll_positions"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ShopSetting(Base):
    """One shop setting an owner changed from the chat (shop.shop_settings names them)."""

    __tablename__ = "shop_settings"

    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
