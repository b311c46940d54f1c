"""Telegram's limits: message sizes, keyboard shape, and (optionally) flood control.

Checked after the spec so that a call which is well-typed but breaks a
documented limit gets the same 400/429 the real service gives.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import bad_request, too_many_requests

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
MAX_INLINE_BUTTONS = 100

# Exactly one of these makes an inline button do something.
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def check_text(text: str, *, edit: bool = False) -> None:
    if not text:
        raise bad_request("message text is empty")
    if len(text) > TEXT_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG" if edit else "message is too long")


def check_caption(caption: str) -> None:
    if len(caption) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")


def valid_button_url(url: str) -> bool:
    """http(s) with a host, or tg:// — what Telegram accepts on a URL button."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "tg":
        return bool(parts.netloc or parts.path)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname
    return ("." in host or host == "localhost") and not any(c.isspace() for c in url)


def check_inline_keyboard(markup: dict[str, Any], *, invoice: bool = False) -> None:
    rows = markup.get("inline_keyboard", [])
    total = 0
    for r, row in enumerate(rows):
        for b, button in enumerate(row):
            total += 1
            _check_button(button, first=(r == 0 and b == 0), invoice=invoice)
    if total > MAX_INLINE_BUTTONS:
        raise bad_request("BUTTONS_TOO_MUCH")


def _check_button(button: dict[str, Any], *, first: bool, invoice: bool) -> None:
    if not button.get("text"):
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in _BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used, "
            f"found {', '.join(actions)}"
        )
    action = actions[0]
    if action == "callback_data":
        size = len(button["callback_data"].encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
    elif action == "url":
        if not valid_button_url(button["url"]):
            raise bad_request("BUTTON_URL_INVALID")
    elif action == "pay" and not (invoice and first):
        raise bad_request("BUTTON_TYPE_INVALID")


def check_reply_keyboard(markup: dict[str, Any]) -> None:
    for row in markup.get("keyboard", []):
        for button in row:
            if not button.get("text"):
                raise bad_request("BUTTON_TEXT_INVALID")


def check_reply_markup(markup: dict[str, Any] | None, *, invoice: bool = False) -> None:
    if not markup:
        return
    if "inline_keyboard" in markup:
        check_inline_keyboard(markup, invoice=invoice)
    elif "keyboard" in markup:
        check_reply_keyboard(markup)


# -- flood control --------------------------------------------------------------------


@dataclass
class RateLimits:
    """Flood limits as the Bot API applies them; off unless ``enabled`` (tests switch them
    on to see 429): at most ``per_bot_per_second`` messages in any second from one bot, a
    private chat ~1 a second (a short burst tolerated), at most ``per_group_per_minute`` in
    any minute to one group or channel."""

    enabled: bool = False
    per_bot_per_second: int = 30
    bot_window: float = 1.0
    """Seconds the bot-wide limit is counted over (per_bot_per_second x this many sends):
    a test of several loaded processes may count over a few seconds, as a loaded machine
    bunches sends that left evenly spaced."""
    per_private_chat_per_second: float = 1.0
    private_burst: int = 3
    per_group_per_minute: int = 20


@dataclass
class _Bucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def wait_time(self, now: float, count: int = 1) -> float:
        # A bucket made during this check is stamped after ``now``: no time has passed.
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = max(now, self.stamp)
        return 0.0 if self.tokens >= count else (count - self.tokens) / self.rate

    def take(self, now: float, count: int = 1) -> None:
        self.tokens -= count


@dataclass
class _Window:
    """At most ``limit`` sends in any ``seconds``: the times of the sends still inside."""

    limit: int
    seconds: float
    times: deque[float] = field(default_factory=deque)

    def wait_time(self, now: float, count: int = 1) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        over = len(self.times) + count - self.limit
        if over <= 0:
            return 0.0
        return self.times[min(over, len(self.times)) - 1] + self.seconds - now

    def take(self, now: float, count: int = 1) -> None:
        self.times.extend([now] * count)


@dataclass(frozen=True)
class Sent:
    """One message a bot sent (accepted, whether or not limits are on), for rate figures."""

    at: float  # time.monotonic()
    token: str
    chat_id: int


class RateLimiter:
    """A window per bot and per group, a token bucket per private chat; raises Telegram's
    429 with the whole seconds to wait, and notes every accepted send in ``sent``."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._limits: dict[tuple[str, int | None], _Bucket | _Window] = {}
        self.sent: list[Sent] = []

    def _limit(self, token: str, chat_id: int | None, private: bool) -> _Bucket | _Window:
        key = (token, chat_id)
        if key not in self._limits:
            lim = self.limits
            limit: _Bucket | _Window
            if chat_id is None:
                count = round(lim.per_bot_per_second * lim.bot_window)
                limit = _Window(count, lim.bot_window)
            elif private:
                limit = _Bucket(lim.private_burst, lim.per_private_chat_per_second)
            else:
                limit = _Window(lim.per_group_per_minute, 60.0)
            self._limits[key] = limit
        return self._limits[key]

    def check(self, token: str, chat_id: int, private: bool, count: int = 1) -> None:
        now = time.monotonic()
        if self.limits.enabled:
            limits = [self._limit(token, None, False), self._limit(token, chat_id, private)]
            waits = [limit.wait_time(now, count) for limit in limits]
            if any(w > 0 for w in waits):
                raise too_many_requests(max(1, math.ceil(max(waits))))
            for limit in limits:
                limit.take(now, count)
        self.sent.extend(Sent(now, token, chat_id) for _ in range(count))


def most_in_a_window(times: list[float], seconds: float = 1.0) -> int:
    """The most sends within any ``seconds`` (half-open windows, as the limits count)."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - seconds:
            first += 1
        most = max(most, last - first + 1)
    return most
