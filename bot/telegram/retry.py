"""Riding out Telegram's hiccups: 5xx answers, non-JSON bodies (a proxy's 502 page), dropped
connections and timeouts are retried with exponential back-off, a short 429 is waited out;
how long is the call's patience (bot/patience.py). An outbox send raises a 429 at once, so
that the dispatcher paces the chat instead of the transport sleeping.

Refusals (400, 403 "bot was blocked"...) are never retried: they go to the caller as they are.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot import budget, patience

log = logging.getLogger(__name__)

TRANSIENT: tuple[type[Exception], ...] = (
    TelegramServerError,
    TelegramNetworkError,
    ClientDecodeError,
)
"""Faults worth another try: the Bot API (or what stands in front of it) had a bad moment."""
GAVE_UP: tuple[type[Exception], ...] = (*TRANSIENT, TelegramRetryAfter, budget.HandOver)
"""What may still escape a call once its patience ran out, or in a process that does not
send: the reply goes to the outbox."""


class TransientRetryMiddleware(BaseRequestMiddleware):
    """Retry a call through transient faults within the current patience.

    getUpdates is left alone: aiogram's polling loop backs off on its own.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        polling = isinstance(method, GetUpdates)  # the poll loop has its own back-off
        if polling:
            return await make_request(bot, method)
        backoff = patience.current().backoff()
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                wait = backoff.flood_wait(error.retry_after)
                if wait is None:
                    raise
                log.info("429 on %s: waiting %s s", type(method).__name__, wait)
            except TRANSIENT as error:
                wait = backoff.next_delay()
                if wait is None:
                    raise
                log.info("%s failed (%r); again in %.2f s", type(method).__name__, error, wait)
            await asyncio.sleep(wait)

    def __repr__(self) -> str:
        return "TransientRetryMiddleware()"


def install(bot: Bot) -> None:
    bot.session.middleware(TransientRetryMiddleware())
