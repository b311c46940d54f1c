"""Who may act for the shop, and the record of what they did."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import Base
from shop.models.types import JSONType, UTCDateTime, utcnow


class Role(StrEnum):
    """What a person may do; each role may do everything the ones before it may."""

    SHOPPER = "shopper"
    STAFF = "staff"
    OWNER = "owner"


class StaffMember(Base):
    """A staff member or owner added by an owner (OWNERS and STAFF in the settings add more).

    Keyed by channel account, not customer: a role belongs to the messenger account that was
    named, so linking accounts never hands a role to another account by accident.
    """

    __tablename__ = "staff_members"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_staff_account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[Role] = mapped_column(String(16), default=Role.STAFF)
    name: Mapped[str] = mapped_column(String(200), default="")
    added_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One staff or owner action: who, what, on what, when, the state before and after.

    Append-only; ``actor`` is the account reference (``telegram:42``), ``subject`` what was
    acted on (``order:12``, ``variant:TS-M``), ``before``/``after`` the changed fields.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class PostedCard(Base):
    """A staff order card the bot posted (moderator chat or a staff member's private chat),
    kept so the card is edited in place whenever its order changes."""

    __tablename__ = "posted_cards"
    __table_args__ = (Index("ix_posted_cards_order", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    """The outbox message that posted it: a retried post skips chats it already reached."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
