"""One-time codes that join a person's messenger accounts, and the wrong tries at them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import Base
from shop.models.types import UTCDateTime, utcnow


class LinkCode(Base):
    """A code given in one messenger to be typed in the other; only its hash is kept.

    ``account_id`` is the account that asked for it (told when the link is made);
    ``used_at`` set means spent: a code links once.
    """

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkAttempt(Base):
    """A wrong, expired or spent code typed from an account: counted to slow guessing."""

    __tablename__ = "link_attempts"
    __table_args__ = (Index("ix_link_attempts_account_time", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
