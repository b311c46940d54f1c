"""Per-customer conversation state (checkout step and drafts), kept in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shop.models import ConversationState


@dataclass
class State:
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


async def load_state(session: AsyncSession, customer_id: int) -> State:
    row = await session.get(ConversationState, customer_id)
    return State(row.step, dict(row.data or {})) if row else State()


async def save_state(session: AsyncSession, customer_id: int, state: State) -> None:
    row = await session.get(ConversationState, customer_id)
    if row is None:
        session.add(ConversationState(customer_id=customer_id, step=state.step, data=state.data))
    else:
        row.step = state.step
        row.data = dict(state.data)
    await session.flush()
