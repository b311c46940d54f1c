"""Sending outbox screens to Telegram chats, with Telegram's refusals turned into outcomes."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter

from bot.delivery import RetryLater, Unreachable
from bot.telegram.render import TelegramRenderer
from handlers.screens import Screen

GONE = ("chat not found", "user is deactivated", "bot was kicked")


async def send_outbox_screen(renderer: TelegramRenderer, external_id: int, screen: Screen) -> None:
    """`TelegramFrontend.send`: Telegram has no way to drop a repeat, so no key is used."""
    try:
        await renderer.send(external_id, screen)
    except TelegramForbiddenError as error:
        raise Unreachable(error.message) from error
    except TelegramRetryAfter as error:
        # Telegram does not say which limit was hit; the chat's is the usual one, and
        # the Pacer keeps the whole bot under its overall limit.
        raise RetryLater(error.retry_after) from error
    except TelegramBadRequest as error:
        if any(reason in error.message for reason in GONE):
            raise Unreachable(error.message) from error
        raise
