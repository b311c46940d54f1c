"""Sending outbox screens to Telegram chats, with Telegram's refusals turned into outcomes."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter

from bot.delivery import RetryLater, Unreachable
from bot.telegram.render import NOT_MODIFIED, TEXT_LIMIT, TelegramRenderer, _cut, inline_keyboard
from handlers.screens import Screen

GONE = ("chat not found", "user is deactivated", "bot was kicked")


async def send_outbox_screen(renderer: TelegramRenderer, external_id: int, screen: Screen) -> int:
    """`TelegramFrontend.send`: Telegram has no way to drop a repeat, so no key is used.
    Returns the sent message's id (a staff card is edited by it later)."""
    try:
        return (await renderer.send(external_id, screen)).message_id
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


async def edit_card(
    renderer: TelegramRenderer, chat_id: int, message_id: int, screen: Screen
) -> None:
    """Edit a posted staff card in place (unchanged content is not an error)."""
    try:
        await renderer.bot.edit_message_text(
            text=_cut(screen.text, TEXT_LIMIT),
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=inline_keyboard(screen),
        )
    except TelegramBadRequest as error:
        if NOT_MODIFIED not in error.message:
            raise
