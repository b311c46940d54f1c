"""The staff table an owner keeps from the chat: who is staff or an owner, by channel account.

OWNERS and STAFF in the settings stand beside this table and are not changed here.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop import audit
from shop.accounts import AccountRef
from shop.models import Role, StaffMember


async def list_staff(session: AsyncSession) -> list[StaffMember]:
    return list(await session.scalars(select(StaffMember).order_by(StaffMember.id)))


async def add_staff(
    session: AsyncSession, actor: AccountRef, account: AccountRef, role: Role, name: str
) -> bool:
    """Add ``account`` with ``role`` (or change its role); False when it already held it."""
    member = await session.scalar(
        select(StaffMember).where(
            StaffMember.channel == account.channel.value,
            StaffMember.external_id == account.external_id,
        )
    )
    before = {"role": member.role} if member is not None else None
    if member is not None and member.role == role:
        return False
    if member is None:
        member = StaffMember(
            channel=account.channel.value,
            external_id=account.external_id,
            name=name,
            added_by=str(actor),
        )
        session.add(member)
    member.role = role
    await session.flush()
    await audit.record(
        session, actor, "staff_add", f"account:{account}", before, {"role": role.value}
    )
    return True


async def remove_staff(session: AsyncSession, actor: AccountRef, account: AccountRef) -> bool:
    """Take ``account`` off the staff table; False when it was not there."""
    removed = await session.execute(
        delete(StaffMember)
        .where(
            StaffMember.channel == account.channel.value,
            StaffMember.external_id == account.external_id,
        )
        .returning(StaffMember.role)
    )
    role = removed.scalar_one_or_none()
    if role is None:
        return False
    await audit.record(session, actor, "staff_remove", f"account:{account}", {"role": role}, None)
    return True
