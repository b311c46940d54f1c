"""The audit log: one row per staff or owner action, written in the action's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shop.accounts import AccountRef
from shop.models import AuditEntry


async def record(
    session: AsyncSession,
    actor: AccountRef,
    action: str,
    subject: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Note who did ``action`` to ``subject``, with the changed fields before and after."""
    await session.execute(
        insert(AuditEntry).values(
            actor=str(actor), action=action, subject=subject, before=before, after=after
        )
    )
