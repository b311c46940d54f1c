"""Sending outbox screens to Telegram chats, with Telegram's refusals turned into outcomes."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter

from bot.delivery import RetryLater, Unreachable
from bot.telegram.render import TelegramRenderer
from handlers.screens import Screen

GONE = ("chat not found", "user is deactivated", "bot was kicked")


class TelegramSender:
    def __init__(self, renderer: TelegramRenderer) -> None:
        self.renderer = renderer

    async def send(self, external_id: int, screen: Screen) -> None:
        try:
            await self.renderer.send(external_id, screen)
        except TelegramForbiddenError as error:
            raise Unreachable(error.message) from error
        except TelegramRetryAfter as error:
            raise RetryLater(error.retry_after) from error
        except TelegramBadRequest as error:
            if any(reason in error.message for reason in GONE):
                raise Unreachable(error.message) from error
            raise
