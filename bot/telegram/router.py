"""One aiogram Router: every private message and button press becomes an Event."""

from __future__ import annotations

import asyncio
import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import CallbackQuery, Message, Update

from bot.telegram.events import callback_event, message_event
from bot.telegram.payments import pre_checkout_handler, successful_payment_handler
from bot.telegram.render import TelegramRenderer
from bot.telegram.retry import GAVE_UP
from handlers.conversation import Conversation
from handlers.screens import Reply
from shop.accounts import AccountRef, Channel
from shop.customers import mark_unreachable
from shop.inbox import Entry

log = logging.getLogger(__name__)

ANSWER_WITHIN = 1.0  # seconds before a button press is answered with no toast
TOAST_LIMIT = 200


async def _show(
    renderer: TelegramRenderer, chat_id: int, reply: Reply, origin: Message | None, user_id: int
) -> None:
    try:
        await renderer.show(chat_id, reply, origin)
    except TelegramForbiddenError:
        async with renderer.sessions() as session, session.begin():
            await mark_unreachable(session, AccountRef(Channel.TELEGRAM, user_id))
        log.info("telegram:%s blocked the bot; marked unreachable", user_id)


async def private_message_handler(
    message: Message,
    event_update: Update,
    conversation: Conversation,
    renderer: TelegramRenderer,
    bot_username: str,
    entry: Entry | None = None,
) -> None:
    event = message_event(message, event_update.update_id, bot_username)
    if event is None:
        return
    reply = await conversation.handle(event, entry)
    if entry is not None and not entry.taken:
        return  # handled before, or not its turn yet: the inbox sees to it
    await _show(renderer, message.chat.id, reply, None, event.account.external_id)


async def button_press_handler(
    query: CallbackQuery,
    event_update: Update,
    conversation: Conversation,
    renderer: TelegramRenderer,
    entry: Entry | None = None,
) -> None:
    """Answer the press (with the toast when the conversation is quick, else at once, bare)
    and render the reply; the answer and the new screen travel side by side."""
    handling = asyncio.ensure_future(
        conversation.handle(callback_event(query, event_update.update_id), entry)
    )
    done, _ = await asyncio.wait({handling}, timeout=ANSWER_WITHIN)
    if not done:
        await _answer(query)
    reply = await handling
    if entry is not None and not entry.taken:
        return
    origin = query.message if isinstance(query.message, Message) else None
    chat_id = origin.chat.id if origin is not None else query.from_user.id
    showing = _show(renderer, chat_id, reply, origin, query.from_user.id)
    if done:
        await asyncio.gather(_answer(query, (reply.toast or "")[:TOAST_LIMIT] or None), showing)
    else:
        await showing


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
    router.message.register(private_message_handler, F.chat.type == "private")
    router.callback_query.register(button_press_handler)
    return router
