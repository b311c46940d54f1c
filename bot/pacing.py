"""The outbox's own pacing on top of the send budget: when each chat may have its next
message, and the holds a messenger's "too many requests" asks for.

The dispatcher sends one message at a time and picks the first whose chat is free, so a
chat that must wait never holds up the others, and never waits inside the send budget
(which would keep the bot-wide places behind it idle).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TypeVar

from bot.budget import Rate

T = TypeVar("T")


class Pacer:
    """Per chat, when its next message may go (``Rate``, as the budget keeps it); per
    chat or whole messenger, until when a 429 holds it.

    A hold is for one chat (``telegram:123``), or every chat of a messenger (``vk``) for a
    limit of the whole bot; the dispatcher sends held messages later instead of waiting.
    """

    def __init__(self, *, chats: bool = True, remember: int = 10_000) -> None:
        self.chats = chats
        """False: no pace per chat (tests of what is sent, not how fast)."""
        self.remember = remember
        self._next_chat: OrderedDict[str, float] = OrderedDict()
        self._held: OrderedDict[str, float] = OrderedDict()
        self._behind: OrderedDict[str, int | None] = OrderedDict()

    def free_in(self, chat: str, rate: Rate | None) -> float:
        """Seconds until ``chat`` may have its next message (0: now)."""
        if rate is None or not self.chats:
            return 0.0
        start = self._next_chat.get(chat, 0.0) - rate.tolerance
        return max(0.0, start - time.monotonic())

    def sent(self, chat: str, rate: Rate | None) -> None:
        """Count a message sent to ``chat`` now."""
        if rate is None or not self.chats:
            return
        now = time.monotonic()
        after = max(self._next_chat.get(chat, now), now) + rate.interval
        _remember(self._next_chat, chat, after, self.remember)

    def hold(self, key: str, seconds: float, *, behind: int | None = None) -> float:
        """Send nothing to ``key`` (a chat, or a whole messenger) for ``seconds``; returns
        the time.monotonic() the hold ends. A hold ``behind`` a message (its next try) does
        not hold that message itself."""
        until = max(time.monotonic() + seconds, self._held.get(key, 0.0))
        _remember(self._held, key, until, self.remember)
        _remember(self._behind, key, behind, self.remember)
        return until

    def held_until(self, *keys: str, message: int | None = None) -> float:
        """The time.monotonic() none of ``keys`` is held any more for ``message`` (in the
        past when free)."""
        mine = [key for key in keys if message is None or self._behind.get(key) != message]
        return max((self._held.get(key, 0.0) for key in mine), default=0.0)

    def held_for(self, *keys: str) -> float:
        """Seconds until none of ``keys`` is held any more; 0 when all are free."""
        return max(0.0, self.held_until(*keys) - time.monotonic())


def _remember(times: OrderedDict[str, T], chat: str, until: T, limit: int) -> None:
    """Note a time per chat, forgetting the chats not seen for longest beyond ``limit``."""
    times[chat] = until
    times.move_to_end(chat)
    while len(times) > limit:
        times.popitem(last=False)
