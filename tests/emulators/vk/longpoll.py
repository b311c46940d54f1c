"""One community's Bots Long Poll server: numbered events, a key, injectable failures.

Protocol (API 5.199): `groups.getLongPollServer` gives `{key, server, ts}`; the bot
asks `{server}?act=a_check&key=...&ts=...&wait=N` and gets `{"ts", "updates"}`, where
`ts` is what it passes next. `{"failed": 1, "ts"}` means history was lost, continue
from the given ts; `{"failed": 2}` the key expired, get a new one keeping ts;
`{"failed": 3}` key and ts lost, get both anew.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from tests.emulators.vk.state import Inbound, new_key, now

MAX_WAIT = 90
HISTORY = 1000


class LongPoll:
    """Events for one community in the order they happened, until the bot takes them."""

    def __init__(self, group_id: int, server: str) -> None:
        self.group_id = group_id
        self.server = server
        self.key: str | None = new_key()
        self.next_ts = 1
        self.events: deque[tuple[int, Inbound]] = deque(maxlen=HISTORY)
        self.failures: deque[int] = deque()
        self.checks = 0  # a_check requests answered, for tests
        self.waiting = 0  # a_check requests held open right now
        self._wake = asyncio.Event()
        self._closed = False

    def server_info(self) -> dict[str, str]:
        """The answer of groups.getLongPollServer; a lost key is replaced."""
        if self.key is None:
            self.key = new_key()
        return {"key": self.key, "server": self.server, "ts": str(self.next_ts)}

    def push(self, inbound: Inbound) -> None:
        self.events.append((self.next_ts, inbound))
        self.next_ts += 1
        self._notify()

    def fail(self, code: int) -> None:
        """Make the next a_check answer `failed: code` (1, 2 or 3)."""
        if code not in (1, 2, 3):
            raise ValueError("long poll failures are 1, 2 or 3")
        self.failures.append(code)
        self._notify()

    def close(self) -> None:
        """Release every held request (the emulator is stopping)."""
        self._closed = True
        self._notify()

    def _notify(self) -> None:
        self._wake.set()
        self._wake = asyncio.Event()

    def _failure(self) -> dict[str, Any] | None:
        if not self.failures:
            return None
        code = self.failures.popleft()
        if code == 1:
            return {"failed": 1, "ts": str(self.next_ts)}
        self.key = None  # 2 and 3: the bot must ask for a new key
        return {"failed": code}

    def _pending(self, ts: int) -> list[tuple[int, Inbound]]:
        return [(n, inbound) for n, inbound in self.events if n >= ts]

    async def check(self, key: str, ts_text: str, wait_text: str) -> dict[str, Any]:
        """Answer one a_check, holding it up to `wait` seconds when there is nothing."""
        self.checks += 1
        if self._closed:
            return {"ts": str(self.next_ts), "updates": []}
        if self.key is None or key != self.key:
            return {"failed": 2}
        failure = self._failure()
        if failure:
            return failure
        oldest = self.events[0][0] if self.events else self.next_ts
        if not ts_text.isdigit() or not oldest <= int(ts_text) <= self.next_ts:
            return {"failed": 1, "ts": str(self.next_ts)}
        ts = int(ts_text)
        wait = min(int(wait_text), MAX_WAIT) if wait_text.isdigit() else 25
        deadline = asyncio.get_running_loop().time() + wait
        self.waiting += 1
        try:
            while not self._pending(ts) and not self._closed and not self.failures:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                wake = self._wake
                try:
                    await asyncio.wait_for(wake.wait(), remaining)
                except TimeoutError:
                    break
        finally:
            self.waiting -= 1
        if self.key is None or key != self.key:
            return {"failed": 2}
        failure = self._failure()
        if failure:
            return failure
        events = self._pending(ts)
        fetched = now()
        for _, inbound in events:
            inbound.delivered_at = inbound.delivered_at or fetched
        return {"ts": str(self.next_ts), "updates": [inbound.update for _, inbound in events]}
