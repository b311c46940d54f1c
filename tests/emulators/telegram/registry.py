"""The table of implemented methods and what a handler is given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .spec import Upload
from .state import BotState, CallRecord, World


@dataclass
class Ctx:
    """One call being served: who calls, with what, and its log entry."""

    world: World
    bot: BotState
    method: str
    params: dict[str, Any]
    files: dict[str, Upload]
    record: CallRecord

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


Handler = Callable[[Ctx], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Register a coroutine as the behaviour of one or more Bot API methods."""

    def register(func: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = func
        return func

    return register
