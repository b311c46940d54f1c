"""Per-customer conversation state (checkout step and drafts), kept in the database."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shop.models import ConversationState


@dataclass
class State:
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    stored: tuple[str | None, dict[str, Any]] | None = field(default=None, compare=False)

    @property
    def changed(self) -> bool:
        return self.stored != (self.step, self.data)


async def load_state(session: AsyncSession, customer_id: int) -> State:
    row = await session.get(ConversationState, customer_id)
    if row is None:
        return State()
    data = copy.deepcopy(row.data or {})  # never share nested drafts with the loaded row
    return State(row.step, data, stored=(row.step, copy.deepcopy(data)))


async def save_state(session: AsyncSession, customer_id: int, state: State) -> None:
    """Write the state back, only when the conversation changed it."""
    if not state.changed:
        return
    row = await session.get(ConversationState, customer_id)
    if row is None:
        session.add(ConversationState(customer_id=customer_id, step=state.step, data=state.data))
    else:
        row.step = state.step
        row.data = dict(state.data)
    await session.flush()
