"""Keeping within messenger send limits: overall messages per second, a gap per chat, and
the holds a 429 asks for."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict


class Pacer:
    """Waits before each send so that at most ``per_second`` go out overall and one chat
    gets at most one message each ``chat_gap`` seconds (Telegram: ~30/s, 1/s per chat).

    A messenger's "too many requests" holds one chat (``telegram:123``), or every chat of
    a messenger (``vk``) for a limit of the whole bot; the dispatcher asks `held_for` and
    sends held messages later instead of waiting here, so one flooded chat never holds up
    the others.
    """

    def __init__(self, per_second: float = 25.0, chat_gap: float = 1.0, remember: int = 10_000):
        self.interval = 1.0 / per_second
        self.chat_gap = chat_gap
        self.remember = remember
        self._next_any = 0.0
        self._next_chat: OrderedDict[str, float] = OrderedDict()
        self._held: OrderedDict[str, float] = OrderedDict()
        self._lock = asyncio.Lock()

    async def wait(self, chat: str) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next_any, self._next_chat.get(chat, 0.0))
            self._next_any = start + self.interval
            _remember(self._next_chat, chat, start + self.chat_gap, self.remember)
        if start > now:
            await asyncio.sleep(start - now)

    def hold(self, key: str, seconds: float) -> None:
        """Send nothing to ``key`` (a chat, or a whole messenger) for ``seconds``."""
        until = max(time.monotonic() + seconds, self._held.get(key, 0.0))
        _remember(self._held, key, until, self.remember)

    def held_for(self, *keys: str) -> float:
        """Seconds until none of ``keys`` is held any more; 0 when all are free."""
        now = time.monotonic()
        return max(0.0, *(self._held.get(key, 0.0) - now for key in keys))


def _remember(times: OrderedDict[str, float], chat: str, until: float, limit: int) -> None:
    """Note a time per chat, forgetting the chats not seen for longest beyond ``limit``."""
    times[chat] = until
    times.move_to_end(chat)
    while len(times) > limit:
        times.popitem(last=False)
