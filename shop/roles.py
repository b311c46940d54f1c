"""Who is staff and who is an owner: the settings (OWNERS, STAFF) and the staff table.

Every staff or owner action asks here on the server, whatever buttons the person was shown;
a refusal is logged with who tried what, and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.accounts import AccountRef
from shop.errors import ShopError
from shop.models import Role, StaffMember

log = logging.getLogger(__name__)

_RANK = {Role.SHOPPER: 0, Role.STAFF: 1, Role.OWNER: 2}


@dataclass(frozen=True)
class Roster:
    """The accounts the settings name; the staff table may add more."""

    owners: frozenset[AccountRef] = field(default_factory=frozenset)
    staff: frozenset[AccountRef] = field(default_factory=frozenset)


async def role_of(session: AsyncSession, account: AccountRef, roster: Roster) -> Role:
    """The highest role this account holds (settings first: they cost no query)."""
    if account in roster.owners:
        return Role.OWNER
    stored = await session.scalar(
        select(StaffMember.role).where(
            StaffMember.channel == account.channel.value,
            StaffMember.external_id == account.external_id,
        )
    )
    if stored is not None:
        return Role(stored)
    return Role.STAFF if account in roster.staff else Role.SHOPPER


def may(held: Role, needed: Role) -> bool:
    return _RANK[held] >= _RANK[needed]


async def require(
    session: AsyncSession, account: AccountRef, roster: Roster, needed: Role, action: str
) -> Role:
    """The account's role if it may do ``action``; else ShopError("not_allowed"), logged."""
    held = await role_of(session, account, roster)
    if not may(held, needed):
        log.warning("refused %s to %s (role %s, needs %s)", action, account, held, needed)
        raise ShopError("not_allowed")
    return held
