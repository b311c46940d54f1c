"""Per-customer conversation state (checkout step and drafts), kept in the database."""

from __future__ import annotations

import copy
import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import CONFLICT_INSERTS, table_of
from shop.models import ConversationState
from shop.models.types import utcnow

_states = table_of(ConversationState)

Draft = TypeVar("Draft")


@dataclass
class State:
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    stored: tuple[str | None, dict[str, Any]] | None = field(default=None, compare=False)

    @classmethod
    def stored_as(cls, step: str | None, data: dict[str, Any] | None) -> State:
        """The state as read from the database (no row reads as the empty state); what the
        conversation changes is a copy, so ``changed`` can tell."""
        data = data or {}
        return cls(step, copy.deepcopy(data), stored=(step, data))

    @property
    def changed(self) -> bool:
        return self.stored != (self.step, self.data)

    def draft(self, key: str, kind: type[Draft]) -> Draft:
        """The dataclass ``kind`` kept under ``key`` (empty if none was kept). A value of
        the wrong type, or a name ``kind`` has no field for (kept by an older version), is
        left out: a draft read back is always one the code can trust."""
        kept = self.data.get(key)
        kept = kept if isinstance(kept, dict) else {}
        hints = typing.get_type_hints(kind)
        values = {
            f.name: kept[f.name]
            for f in dataclasses.fields(kind)  # type: ignore[arg-type]
            if _fits(kept.get(f.name), hints[f.name])
        }
        return kind(**values)

    def keep(self, key: str, draft: object) -> None:
        """Put the dataclass ``draft`` under ``key`` as plain JSON (empty fields left out)."""
        values = dataclasses.asdict(draft)  # type: ignore[call-overload]
        self.data[key] = {name: value for name, value in values.items() if value is not None}


def _fits(value: object, hint: object) -> bool:
    """Whether ``value`` is a non-None value of the type ``hint`` (``str | None``...)."""
    if value is None:
        return False
    allowed = typing.get_args(hint) or (hint,)
    return any(
        isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)
        for kind in allowed
        if isinstance(kind, type)
    )


async def load_state(session: AsyncSession, customer_id: int) -> State:
    query = select(_states.c.step, _states.c.data).where(_states.c.customer_id == customer_id)
    row = (await session.execute(query)).first()
    return State.stored_as(None, None) if row is None else State.stored_as(row.step, row.data)


def _save_statement(insert: Any) -> Any:
    statement = insert(_states).values(
        customer_id=bindparam("customer_id"),
        step=bindparam("step"),
        data=bindparam("data"),
        updated_at=bindparam("updated_at"),
    )
    changed = {name: statement.excluded[name] for name in ("step", "data", "updated_at")}
    return statement.on_conflict_do_update(index_elements=[_states.c.customer_id], set_=changed)


_SAVE = {dialect: _save_statement(insert) for dialect, insert in CONFLICT_INSERTS.items()}


async def save_state(session: AsyncSession, customer_id: int, state: State) -> None:
    """Write the state back (one upsert), only when the conversation changed it."""
    if not state.changed:
        return
    values = {"step": state.step, "data": state.data, "updated_at": utcnow()}
    await session.execute(
        _SAVE[session.get_bind().dialect.name], {"customer_id": customer_id, **values}
    )
    state.stored = (state.step, copy.deepcopy(state.data))
