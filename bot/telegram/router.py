"""One aiogram Router: every private message and button press becomes an Event."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import CallbackQuery, Message, Update

from bot.frontend import Answering
from bot.telegram.events import callback_event, message_event
from bot.telegram.payments import pre_checkout_handler, successful_payment_handler
from bot.telegram.render import TelegramRenderer
from bot.telegram.retry import GAVE_UP
from handlers.screens import Reply
from shop.inbox import Entry

log = logging.getLogger(__name__)

TOAST_LIMIT = 200


def blocked(error: BaseException) -> bool:
    """The person blocked the bot (their account is then marked unreachable)."""
    return isinstance(error, TelegramForbiddenError)


async def message_handler(
    message: Message,
    event_update: Update,
    answering: Answering,
    renderer: TelegramRenderer,
    bot_username: str,
    entry: Entry | None = None,
) -> None:
    event = message_event(message, event_update.update_id, bot_username)
    if event is None:
        return

    async def show(reply: Reply) -> None:
        await renderer.show(message.chat.id, reply)

    async def typing() -> None:
        await message.bot.send_chat_action(message.chat.id, ChatAction.TYPING)  # type: ignore[union-attr]

    await answering.answer(event, entry, show, typing=typing)


async def button_press_handler(
    query: CallbackQuery,
    event_update: Update,
    answering: Answering,
    renderer: TelegramRenderer,
    entry: Entry | None = None,
) -> None:
    """The press is answered beside the new screen (see `Answering`)."""
    origin = query.message if isinstance(query.message, Message) else None
    chat_id = origin.chat.id if origin is not None else query.from_user.id

    async def show(reply: Reply) -> None:
        await renderer.show(chat_id, reply, origin)

    async def press(toast: str | None) -> None:
        await _answer(query, (toast or "")[:TOAST_LIMIT] or None)

    async def typing() -> None:
        await query.bot.send_chat_action(chat_id, ChatAction.TYPING)  # type: ignore[union-attr]

    event = callback_event(query, event_update.update_id)
    await answering.answer(event, entry, show, press, typing=typing)


async def _answer(query: CallbackQuery, toast: str | None = None) -> None:
    """A press Telegram no longer knows (too old, say after a restart) needs no answer; the
    screen is still drawn."""
    try:
        await query.answer(toast)
    except TelegramBadRequest as error:
        log.info("could not answer a button press: %s", error.message)
    except GAVE_UP as error:  # the screen is what counts; the spinner stops on its own
        log.warning("could not answer a button press: %r", error)


def make_router() -> Router:
    """A fresh Router (aiogram attaches a Router to one Dispatcher only)."""
    router = Router(name="storefront")
    router.pre_checkout_query.register(pre_checkout_handler)
    router.message.register(successful_payment_handler, F.successful_payment)
    router.message.register(message_handler, F.chat.type == "private")
    # Group messages reach the conversation with their Place; it answers the moderator chat only.
    router.message.register(message_handler, F.chat.type.in_({"group", "supergroup"}))
    router.callback_query.register(button_press_handler)
    return router
