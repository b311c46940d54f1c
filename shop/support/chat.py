"""The moderator chat as it is now: its current id (a group upgraded to a supergroup moves)
and a problem the bot met there (owners are told once per problem, not per message)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.models import SupportChat


async def _row(session: AsyncSession, configured: int) -> SupportChat:
    row = await session.scalar(select(SupportChat).where(SupportChat.configured_id == configured))
    if row is None:
        row = SupportChat(configured_id=configured, current_id=configured, problem="")
        session.add(row)
        await session.flush()
    return row


async def current_chat(session: AsyncSession, configured: int) -> int:
    """The id the moderator chat has now (the configured one unless it was upgraded)."""
    found = await session.scalar(
        select(SupportChat.current_id).where(SupportChat.configured_id == configured)
    )
    return configured if found is None else int(found)


async def follow_migration(session: AsyncSession, configured: int, new_id: int) -> None:
    """The group became a supergroup with ``new_id``: every later send goes there."""
    row = await _row(session, configured)
    row.current_id = new_id


async def note_problem(session: AsyncSession, configured: int, problem: str) -> bool:
    """Remember what keeps the bot from working in the chat; True if it is news."""
    row = await _row(session, configured)
    if row.problem == problem[:200]:
        return False
    row.problem = problem[:200]
    return True


async def clear_problem(session: AsyncSession, configured: int) -> None:
    row = await session.scalar(select(SupportChat).where(SupportChat.configured_id == configured))
    if row is not None and row.problem:
        row.problem = ""
