"""The payments ledger: one row per provider payment or refund, with its raw status history.

A YooKassa attempt row is written, with its idempotence key, *before* the API is called, so a
retry after a lost answer reuses the key and YooKassa returns the payment it already made. The
provider's id is therefore NULL until the answer arrives; (provider, provider id) is unique
once set (NULLs never collide, on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import Base
from shop.models.types import JSONType, UTCDateTime, utcnow


class PaymentProvider(StrEnum):
    YOOKASSA = "yookassa"
    TELEGRAM = "telegram"
    CASH = "cash"


class PaymentStatus(StrEnum):
    """The core's payment statuses: each gateway maps its provider's onto them (payments/).

    CREATING: asked, the answer not yet heard; FAILED: the provider refused to create it.
    """

    CREATING = "creating"
    PENDING = "pending"
    WAITING_FOR_CAPTURE = "waiting_for_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    FAILED = "failed"


class RefundStatus(StrEnum):
    """The core's refund statuses, mapped from the provider's like PaymentStatus."""

    CREATING = "creating"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    FAILED = "failed"


class Payment(Base):
    """One payment at one provider for one order; ``history`` keeps every status it reported.

    Telegram payments are keyed by ``telegram_payment_charge_id`` (in ``provider_payment_id``);
    the provider's own charge id (for YooKassa as Telegram's provider: its payment id) is kept
    in ``provider_charge_id``.
    """

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("provider", "provider_payment_id"),
        Index("ix_payments_open", "provider", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    provider: Mapped[PaymentProvider] = mapped_column(String(16))
    provider_payment_id: Mapped[str | None] = mapped_column(String(64))
    provider_charge_id: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    status: Mapped[PaymentStatus] = mapped_column(String(24))
    idempotence_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    return_url: Mapped[str | None] = mapped_column(Text)
    confirmation_url: Mapped[str | None] = mapped_column(Text)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Refund(Base):
    """Money given back for a payment, whole or by order lines; written before the API call.

    ``lines`` maps order line ids to refunded quantities (``{}`` for a whole refund), so a
    later refund by lines knows what is already given back.
    """

    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("provider", "provider_refund_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    provider: Mapped[PaymentProvider] = mapped_column(String(16))
    provider_refund_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[RefundStatus] = mapped_column(String(24), index=True)
    idempotence_key: Mapped[str] = mapped_column(String(64), unique=True)
    lines: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
