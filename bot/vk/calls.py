"""Calling the VK API from the event loop: vk_api is blocking, so every call runs in a thread.

Transient faults (HTTP 5xx, a body that is not JSON, a dropped connection, a timeout, VK's
"internal server error" and "too many requests") are retried with back-off within the
call's patience (bot/patience.py); VK drops a repeated messages.send by its random_id, so a
retry never shows a message twice. An outbox send gets "too many requests" back at once.
Every call takes its place in the send budget first; in a process without the sending role
a reply's message raises `budget.HandOver` (it goes to the outbox).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import requests
import vk_api

from bot import budget, patience

log = logging.getLogger(__name__)

# blacklisted the community, disallowed its messages, privacy settings; deleted or banned
UNREACHABLE = frozenset({900, 901, 902, 18})
TOO_MANY_REQUESTS = 6
FLOOD_CONTROL = 9
INTERNAL_ERROR = 10
TOO_MANY_REQUESTS_PAUSE = 1.0  # VK names no wait; its limit is per second
MESSAGES = frozenset({"messages.send", "messages.edit"})
"""The calls a process without the sending role hands to the outbox."""


async def call(vk: vk_api.VkApi, method: str, **params: Any) -> Any:
    """``vk.method(method, params)`` on a worker thread, retried through transient faults;
    raises vk_api.ApiError as VK refuses (and what a fault left once patience ran out)."""
    backoff = patience.current().backoff()
    hand_over = method in MESSAGES and patience.current() is not patience.OUTBOX
    while True:
        try:
            await budget.take(budget.vk_buckets(vk.token["access_token"]), may_hand_over=hand_over)
            return await asyncio.to_thread(vk.method, method, params)
        except Exception as error:
            if error_code(error) == TOO_MANY_REQUESTS:
                wait = backoff.flood_wait(TOO_MANY_REQUESTS_PAUSE)
            else:
                wait = backoff.next_delay() if transient(error) else None
            if wait is None:
                raise
            log.info("VK %s failed (%s); again in %.2f s", method, describe(error), wait)
        await asyncio.sleep(wait)


def take_over_rate_limit_errors(vk: vk_api.VkApi) -> None:
    """vk_api answers "too many requests" by sleeping in its thread and retrying without
    end; with this it raises, and `call` decides (an outbox send must not sleep)."""
    vk.error_handlers.pop(TOO_MANY_REQUESTS, None)


def transient(error: BaseException) -> bool:
    """Whether another try may well succeed: VK or the way to it had a bad moment."""
    if isinstance(error, vk_api.ApiHttpError):
        return bool(error.response.status_code >= 500)
    if isinstance(error, vk_api.ApiError):
        return error.code in (TOO_MANY_REQUESTS, INTERNAL_ERROR)
    # a dropped connection, a timeout, a body that is not JSON (requests' JSONDecodeError)
    return isinstance(error, requests.RequestException)


def gave_up(error: BaseException) -> bool:
    """Whether a reply that met ``error`` should go to the outbox: a fault that outlasted
    the retries, or VK asking to slow down (the outbox paces it)."""
    return (
        transient(error)
        or error_code(error) == FLOOD_CONTROL
        or isinstance(error, vk_api.Captcha | budget.HandOver)
    )


def error_code(error: BaseException) -> int | None:
    """The VK error code of an API refusal, None for anything else (network trouble)."""
    return error.code if isinstance(error, vk_api.ApiError) else None


def error_message(error: BaseException) -> str:
    if isinstance(error, vk_api.ApiError):
        return str(error.error.get("error_msg", ""))
    return str(error)


def describe(error: BaseException) -> str:
    code = error_code(error)
    return f"error {code}: {error_message(error)}" if code is not None else repr(error)
