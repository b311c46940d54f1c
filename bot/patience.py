"""How long a call to a messenger keeps trying through transient faults, for both front-ends.

A reply to a person rides out a few seconds of trouble (exponential back-off, a short 429
wait) before it is handed to the outbox. An outbox send hardly waits at all: the dispatcher
reschedules it, and a 429 becomes the dispatcher's pacing, never a sleep in the transport.
Which of the two applies is a context variable, so it reaches the Bot API request
middleware and vk_api's worker threads (``asyncio.to_thread`` copies the context).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Patience:
    """``budget``: seconds of back-off in all; ``longest_flood_wait``: the longest 429
    ``retry_after`` waited out in place (0: a 429 is raised at once)."""

    budget: float
    longest_flood_wait: float
    first_delay: float = 0.25

    def backoff(self) -> Backoff:
        return Backoff(self)


class Backoff:
    """The waits of one call: doubling delays, and flood waits, until the budget is spent."""

    def __init__(self, patience: Patience) -> None:
        self.patience = patience
        self.left = patience.budget
        self._delay = patience.first_delay

    def next_delay(self) -> float | None:
        """The pause before the next try, or None when the budget would be overrun."""
        delay = self._delay
        if delay > self.left:
            return None
        self.left -= delay
        self._delay *= 2
        return delay

    def flood_wait(self, retry_after: float) -> float | None:
        """``retry_after`` when it is short enough to wait out here, else None (raise it)."""
        if retry_after > self.patience.longest_flood_wait or retry_after > self.left:
            return None
        self.left -= retry_after
        return retry_after


REPLY = Patience(budget=8.0, longest_flood_wait=5.0)
"""A direct reply: 0.25 + 0.5 + 1 + 2 + 4 s of back-off, a 429 of up to 5 s waited out."""
OUTBOX = Patience(budget=1.0, longest_flood_wait=0.0)
"""An outbox send: one or two quick retries (a stale keep-alive), a 429 raised at once."""

_current: ContextVar[Patience | None] = ContextVar("patience", default=None)


def current() -> Patience:
    """The patience of the call being made (a reply's unless an outbox send said otherwise)."""
    return _current.get() or REPLY


@contextmanager
def outbox_send() -> Iterator[None]:
    """Calls made inside are outbox sends: quick to give up, never sleeping on a 429."""
    token = _current.set(OUTBOX)
    try:
        yield
    finally:
        _current.reset(token)
