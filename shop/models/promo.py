"""Promo codes: one-time discounts bound to one customer (compensation from staff)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import Base
from shop.models.types import UTCDateTime, utcnow


class PromoCode(Base):
    """A code worth ``percent`` of the items or a fixed ``amount`` (kopecks), used once.

    ``used_at``/``order_id`` are set by the checkout that consumes it (a conditional UPDATE
    on ``used_at IS NULL``); ``used_at`` is cleared when that order is cancelled unpaid
    (``order_id`` stays until another checkout takes the code).
    """

    __tablename__ = "promo_codes"
    __table_args__ = (
        CheckConstraint("(percent IS NULL) <> (amount IS NULL)", name="percent_or_amount"),
        CheckConstraint(
            "percent IS NULL OR (percent >= 1 AND percent <= 99)", name="percent_range"
        ),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        Index("ix_promo_codes_customer_unused", "customer_id", "used_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    percent: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
