"""Riding out Telegram's hiccups: a 429 is retried after its ``retry_after``; a dropped
connection (no answer at all) is retried once, so a reply is not lost to a stale keep-alive."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

log = logging.getLogger(__name__)

NETWORK_RETRY_DELAY = 0.2


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Retry a flood-limited call after the wait Telegram names (a few times at most), and a
    call whose connection dropped before any answer (once)."""

    def __init__(self, attempts: int = 3, longest_wait: float = 60.0) -> None:
        self.attempts = attempts
        self.longest_wait = longest_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramNetworkError as error:
                if attempt > 1:
                    raise
                log.info("network error on %s (%s): trying once more", type(method).__name__, error)
                await asyncio.sleep(NETWORK_RETRY_DELAY)
            except TelegramRetryAfter as error:
                if attempt == self.attempts or error.retry_after > self.longest_wait:
                    raise
                log.info("429 on %s: waiting %ss", type(method).__name__, error.retry_after)
                await asyncio.sleep(error.retry_after)
        raise AssertionError("unreachable")

    def __repr__(self) -> str:
        return f"RetryAfterMiddleware(attempts={self.attempts})"


def install(bot: Bot, **options: Any) -> None:
    bot.session.middleware(RetryAfterMiddleware(**options))
