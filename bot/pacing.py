"""Keeping within messenger send limits: overall messages per second and a gap per chat."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict


class Pacer:
    """Waits before each send so that at most ``per_second`` go out overall and one chat
    gets at most one message each ``chat_gap`` seconds (Telegram: ~30/s, 1/s per chat)."""

    def __init__(self, per_second: float = 25.0, chat_gap: float = 1.0, remember: int = 10_000):
        self.interval = 1.0 / per_second
        self.chat_gap = chat_gap
        self.remember = remember
        self._next_any = 0.0
        self._next_chat: OrderedDict[str, float] = OrderedDict()
        self._lock = asyncio.Lock()

    async def wait(self, chat: str) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next_any, self._next_chat.get(chat, 0.0))
            self._next_any = start + self.interval
            self._next_chat[chat] = start + self.chat_gap
            self._next_chat.move_to_end(chat)
            while len(self._next_chat) > self.remember:
                self._next_chat.popitem(last=False)
        if start > now:
            await asyncio.sleep(start - now)
