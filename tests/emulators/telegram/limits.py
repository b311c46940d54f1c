"""Telegram's limits: message sizes, keyboard shape, and (optionally) flood control.

Checked after the spec so that a call which is well-typed but breaks a
documented limit gets the same 400/429 the real service gives.
"""

from __future__ import annotations

import math
import time
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
    """Flood limits; off unless ``enabled`` (tests switch them on to see 429)."""

    enabled: bool = False
    per_bot_per_second: float = 30.0
    bot_burst: int = 30
    per_private_chat_per_second: float = 1.0
    private_burst: int = 3
    per_group_per_minute: float = 20.0
    group_burst: int = 20


@dataclass
class _Bucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def wait_time(self, now: float) -> float:
        # A bucket made during this check is stamped after ``now``: no time has passed.
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = max(now, self.stamp)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class RateLimiter:
    """Token buckets per bot and per (bot, chat); raises Telegram's 429."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._buckets: dict[tuple[str, int | None], _Bucket] = {}

    def _bucket(self, token: str, chat_id: int | None, private: bool) -> _Bucket:
        key = (token, chat_id)
        if key not in self._buckets:
            lim = self.limits
            if chat_id is None:
                bucket = _Bucket(lim.bot_burst, lim.per_bot_per_second)
            elif private:
                bucket = _Bucket(lim.private_burst, lim.per_private_chat_per_second)
            else:
                bucket = _Bucket(lim.group_burst, lim.per_group_per_minute / 60)
            self._buckets[key] = bucket
        return self._buckets[key]

    def check(self, token: str, chat_id: int, private: bool, count: int = 1) -> None:
        if not self.limits.enabled:
            return
        now = time.monotonic()
        buckets = [self._bucket(token, None, False), self._bucket(token, chat_id, private)]
        waits = [b.wait_time(now) for b in buckets]
        if any(w > 0 for w in waits):
            raise too_many_requests(max(1, math.ceil(max(waits))))
        for bucket in buckets:
            for _ in range(count):
                bucket.take()
