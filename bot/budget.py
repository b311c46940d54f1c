"""One send budget for every worker process: each send to a messenger first takes its place
within the messenger's limits (Telegram 30 messages in any second per bot, ~1/s per chat,
20 a minute per group; VK 20 requests/s per community token). Places are handed out in the
order they are asked for, so replies to a crowd go first come, first served.

With REDIS_URL the budget is shared through Redis: one Lua script reserves a send's slot in
every bucket it belongs to (the bot's and the chat's) in one round trip, and the caller
sleeps until its slot. Without it each process keeps its own budget: right for one worker,
and for several on PostgreSQL only one of them sends (bot/sending_role.py); the others hand
their replies' messages to the outbox (`HandOver`).
Both keep the buckets the same way, as a "generic cell rate algorithm": per bucket only the
theoretical time of the next send, so a bucket is one small key that expires on its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    """At most ``burst`` sends at once, then one each ``interval`` seconds; a send that
    does not ``wait`` fills the bucket (no further than full) but goes at once."""

    interval: float
    burst: int = 1
    wait: bool = True
    window: int = 0
    """Also at most this many sends in any `WINDOW` seconds, counted as they go out of this
    process (0: none): a loop that woke late cannot bunch sends the budget spaced."""

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval

    def counted_only(self) -> Rate:
        """The same bucket, filled by a send that does not wait for it."""
        return Rate(self.interval, self.burst, wait=False, window=self.window)

    def after(self, next_send: float, start: float, count: int) -> float:
        """The bucket's next send once ``count`` sends go at ``start``."""
        after = max(next_send, start) + count * self.interval
        return after if self.wait else min(after, start + self.tolerance + self.interval)


WINDOW = 1.02
"""A second, and 20 ms for the way to the messenger."""
TELEGRAM_BOT = Rate(1 / 29.5, window=30)
"""Telegram allows 30 messages in any second per bot: no burst (a burst on top of the pace
would make 31 in some second), and 29.5 a second leaves room for network jitter."""
TELEGRAM_PRIVATE_CHAT = Rate(1.05, burst=3)
"""~1 message a second in one chat, with the short burst Telegram tolerates."""
TELEGRAM_GROUP = Rate(3.9, burst=4)
"""20 messages in any minute in a group: a burst of 4, then 15 a minute makes at most 19."""
VK_TOKEN = Rate(1 / 19.5, burst=3, window=20)
"""VK allows a community token 20 requests a second: a reply's few calls go together (its
window keeps any second within 20)."""


Bucket = tuple[str, Rate]


class SendBudget(Protocol):
    async def delay(self, buckets: list[Bucket], count: int) -> float:
        """Reserve ``count`` sends in every bucket; seconds to wait before sending."""
        ...

    async def close(self) -> None: ...


class LocalBudget:
    """The budget of one process (remembering the ``remember`` buckets used last)."""

    def __init__(self, remember: int = 10_000) -> None:
        self.remember = remember
        self._next: OrderedDict[str, float] = OrderedDict()

    async def delay(self, buckets: list[Bucket], count: int) -> float:
        now = time.monotonic()
        start = max(
            [now]
            + [
                self._next.get(key, now) + (count - 1) * rate.interval - rate.tolerance
                for key, rate in buckets
                if rate.wait
            ]
        )
        for key, rate in buckets:
            self._next[key] = rate.after(self._next.get(key, now), start, count)
            self._next.move_to_end(key)
        while len(self._next) > self.remember:
            self._next.popitem(last=False)
        return start - now

    async def close(self) -> None:
        pass


# KEYS: the buckets; ARGV: count, then each bucket's interval and tolerance (microseconds)
# and whether the send waits for it (1) or only fills it (0); as `Rate.after`.
# Redis' own clock, so that every worker measures time alike.
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local count = tonumber(ARGV[1])
local start = now
local next_send = {}
for i, key in ipairs(KEYS) do
  next_send[i] = tonumber(redis.call('GET', key) or now)
  if ARGV[3 * i + 1] == '1' then
    local interval, tolerance = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
    start = math.max(start, next_send[i] + (count - 1) * interval - tolerance)
  end
end
for i, key in ipairs(KEYS) do
  local interval, tolerance = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local after = math.max(next_send[i], start) + count * interval
  if ARGV[3 * i + 1] ~= '1' then after = math.min(after, start + tolerance + interval) end
  redis.call('SET', key, string.format('%d', after), 'PX', math.ceil((after - now) / 1000) + 1000)
end
return math.floor(start - now)
"""


class RedisBudget:
    """The budget shared by every process using the same Redis (keys under ``prefix``).

    Redis out of reach does not stop sending: this process falls back to its own budget
    (and says so once) until Redis answers again."""

    def __init__(self, url: str, prefix: str = "send-budget:") -> None:
        import redis.asyncio

        self.client = redis.asyncio.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.prefix = prefix
        self.script = self.client.register_script(_RESERVE)
        self.fallback = LocalBudget()
        self._failing = False

    async def delay(self, buckets: list[Bucket], count: int) -> float:
        import redis

        keys = [self.prefix + key for key, _ in buckets]
        args: list[int] = [count]
        for _, rate in buckets:
            args += [round(rate.interval * 1e6), round(rate.tolerance * 1e6), int(rate.wait)]
        try:
            wait = await self.script(keys=keys, args=args)
        except (redis.RedisError, OSError) as error:
            if not self._failing:
                log.warning("The shared send budget is out of reach (%r): pacing alone", error)
                self._failing = True
            return await self.fallback.delay(buckets, count)
        if self._failing:
            log.info("The shared send budget is back")
            self._failing = False
        return max(0.0, int(wait) / 1e6)

    async def close(self) -> None:
        await self.client.aclose()


class HandOver(Exception):
    """This process does not send (another holds the sending role): a reply's messages go to
    the outbox, which the sending process delivers."""


class Standby:
    """The budget of a process without the sending role: its replies' messages are handed
    over; what cannot be (a press's answer, an invoice) keeps within ``share``, a small
    allowance of its own."""

    def __init__(self, share: LocalBudget) -> None:
        self.share = share

    async def delay(self, buckets: list[Bucket], count: int) -> float:
        return await self.share.delay(buckets, count)

    async def close(self) -> None:
        pass


class Unlimited:
    """No pacing at all: a process that never chose a budget (tests that build a bot alone)."""

    async def delay(self, buckets: list[Bucket], count: int) -> float:
        return 0.0

    async def close(self) -> None:
        pass


_current: SendBudget = Unlimited()


_telegram_bot: Rate | None = TELEGRAM_BOT
_vk_token: Rate = VK_TOKEN
_sending: SendBudget | None = None
"""The budget this process sends within once it holds the sending role (`send_here`)."""
STANDBY_SHARE = Rate(1.0, burst=2)
"""What a process without the sending role may still send on its own per bucket: answers
to button presses and invoices, which cannot wait in the outbox."""


def use(
    redis_url: str,
    *,
    telegram_per_second: float = 29.5,
    vk_per_second: float = 19.5,
    standby: bool = False,
) -> SendBudget:
    """Make this process send within the Redis-shared budget, or its own when no URL;
    ``telegram_per_second`` is the bot-wide Telegram rate (0: none, e.g. a local Bot API
    server without Telegram's limits, or a benchmark of the bot's own throughput), and
    ``vk_per_second`` the community token's. With ``standby`` the process starts without
    the sending role (several processes, no Redis) until `send_here`."""
    global _current, _telegram_bot, _vk_token, _sending
    _telegram_bot = (
        Rate(1 / telegram_per_second, window=math.floor(telegram_per_second + 0.5))
        if telegram_per_second > 0
        else None
    )
    _vk_token = Rate(1 / vk_per_second, VK_TOKEN.burst, window=math.floor(vk_per_second + 0.5))
    _windows.clear()
    _sending = RedisBudget(redis_url) if redis_url else LocalBudget()
    _current = Standby(LocalBudget()) if standby else _sending
    return _sending


def stop() -> None:
    """The process stopped sending: what it sends afterwards is not paced (a test)."""
    global _current, _sending
    _current, _sending = Unlimited(), None
    _windows.clear()


def send_here(sending: bool) -> None:
    """Take up the sending role (a fresh budget of this process's own) or leave it."""
    global _current
    if sending:
        _current = _sending if _sending is not None else LocalBudget()
    elif not isinstance(_current, Standby):
        _current = Standby(LocalBudget())


def current() -> SendBudget:
    return _current


def sending() -> bool:
    """Whether this process sends (the outbox and its replies) rather than handing over."""
    return not isinstance(_current, Standby)


async def take(buckets: list[Bucket], count: int = 1, *, may_hand_over: bool = False) -> None:
    """Wait for a place for ``count`` sends in every bucket; in a process without the
    sending role a send that ``may_hand_over`` raises `HandOver` instead, and any other
    keeps within the standby share."""
    budget = _current
    if isinstance(budget, Standby):
        if may_hand_over:
            raise HandOver
        buckets = [(key, STANDBY_SHARE) for key, _ in buckets]
    wait = await budget.delay(buckets, count)
    if wait > 0:
        await asyncio.sleep(wait)
    if isinstance(budget, Unlimited):
        return
    loop = asyncio.get_running_loop()
    for key, rate in buckets:
        if rate.window:
            window = _windows.get(key)
            if window is None or window.loop is not loop:
                window = _windows[key] = _Window(rate.window, loop)
            await window.enter(count)


class _Window:
    """The times of this process's last sends in a bucket, to keep at most ``limit`` in any
    `WINDOW` seconds as they go out; waiters go in turn."""

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        self.limit = limit
        self.loop = loop
        self.times: deque[float] = deque()
        self.turn = asyncio.Lock()

    async def enter(self, count: int) -> None:
        async with self.turn:
            while True:
                now = time.monotonic()
                while self.times and self.times[0] <= now - WINDOW:
                    self.times.popleft()
                over = len(self.times) + count - self.limit
                if over <= 0:
                    self.times.extend([now] * count)
                    return
                await asyncio.sleep(self.times[min(over, len(self.times)) - 1] + WINDOW - now)


_windows: dict[str, _Window] = {}


def telegram_buckets(
    bot_id: int, chat_id: int | str | None, *, wait_for_chat: bool = True
) -> list[Bucket]:
    """The bot's bucket, and the chat's when the send names one (a @channel name counts
    as a group); without ``wait_for_chat`` the send fills the chat's bucket but does not
    wait for it. Braces keep a bot's keys in one Redis Cluster slot."""
    scope = f"{{telegram:{bot_id}}}"
    buckets: list[Bucket] = [] if _telegram_bot is None else [(scope, _telegram_bot)]
    if chat_id is not None:
        private = isinstance(chat_id, int) and chat_id > 0
        rate = TELEGRAM_PRIVATE_CHAT if private else TELEGRAM_GROUP
        buckets.append((f"{scope}:{chat_id}", rate if wait_for_chat else rate.counted_only()))
    return buckets


def vk_buckets(token: str) -> list[Bucket]:
    """The community token's bucket, named by a digest (a token never reaches Redis)."""
    return [(f"vk:{hashlib.sha256(token.encode()).hexdigest()[:16]}", _vk_token)]


def chat_rate(chat_id: int) -> Rate:
    """The pace of one Telegram chat: a person's, or a group's (negative ids)."""
    return TELEGRAM_PRIVATE_CHAT if chat_id > 0 else TELEGRAM_GROUP
