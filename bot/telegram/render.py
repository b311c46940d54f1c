"""Rendering neutral Screens with the Bot API: inline keyboards, edits in place, cached photos."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    LabeledPrice,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.keyboard import ReplyKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import hand_over
from bot.media_cache import MediaIds
from bot.telegram.retry import GAVE_UP
from handlers.screens import PayOrder, Reply, Screen
from payments.telegram import invoice_for
from shop.accounts import AccountRef, Channel
from shop.catalog import photo_data
from shop.orders import get_order

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
NOT_MODIFIED = "message is not modified"
STALE_FILE = "wrong file identifier"

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def inline_keyboard(screen: Screen) -> InlineKeyboardMarkup | None:
    """The screen's rows as an inline keyboard.

    Built from aiogram's types directly: the screen already has its rows, and
    InlineKeyboardBuilder.as_markup() deep-copies every button (about a tenth of the bot's
    CPU per update in bench/updates.py).
    """
    keyboard = []
    for row in screen.buttons:
        buttons = []
        for button in row:
            if button.url:
                buttons.append(InlineKeyboardButton(text=button.text, url=button.url))
            elif button.action and len(button.action.encode()) <= CALLBACK_DATA_LIMIT:
                buttons.append(InlineKeyboardButton(text=button.text, callback_data=button.action))
            else:
                log.error("dropped a button whose action does not fit Telegram: %r", button)
        if buttons:
            keyboard.append(buttons)
    return InlineKeyboardMarkup(inline_keyboard=keyboard) if keyboard else None


def _markup(screen: Screen) -> Markup:
    """A "share my phone" keyboard, the inline keyboard, or else the removal of a share
    keyboard an earlier screen may have left under the input field."""
    if screen.ask_contact:
        builder = ReplyKeyboardBuilder()
        builder.row(KeyboardButton(text=screen.ask_contact, request_contact=True))
        return builder.as_markup(resize_keyboard=True, one_time_keyboard=True)
    return inline_keyboard(screen) or ReplyKeyboardRemove()


class TelegramRenderer:
    """Shows Replies in one chat; product photos are uploaded once, then re-sent by file_id.

    A screen paying for an order is followed by its invoice (Telegram Payments).
    """

    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        readers: async_sessionmaker[AsyncSession],
        provider_token: str = "",
        vat_code: int = 1,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.readers = readers
        self.provider_token = provider_token
        self.vat_code = vat_code
        self.file_ids = MediaIds(Channel.TELEGRAM.value, sessions, readers)

    async def show(
        self,
        chat_id: int,
        reply: Reply,
        origin: Message | None = None,
        *,
        thread_id: int | None = None,
    ) -> None:
        """Send the reply's screens; the first replacing screen edits ``origin`` in place.

        Screens that still cannot go out once the retries are spent (Telegram down, a long
        429) are handed to the outbox, in order, rather than lost.
        """
        for index, screen in enumerate(reply.screens):
            try:
                if screen.replace and origin is not None and screen.document is None:
                    await self._replace(origin, screen)
                    origin = None
                else:
                    await self.send(chat_id, screen, thread_id=thread_id)
                if screen.pay is not None:
                    await self._send_invoice(chat_id, screen.pay)
            except GAVE_UP as error:
                account = AccountRef(Channel.TELEGRAM, chat_id)
                wait = error.retry_after if isinstance(error, TelegramRetryAfter) else None
                await hand_over(self.sessions, account, reply.screens[index:], error, wait=wait)
                return

    async def send(self, chat_id: int, screen: Screen, *, thread_id: int | None = None) -> Message:
        """One screen as a new message (``thread_id``: in that forum topic of a group)."""
        markup = _markup(screen)
        if screen.document is not None:
            document = BufferedInputFile(screen.document.data, filename=screen.document.name)
            return await self.bot.send_document(
                chat_id, document, caption=_cut(screen.text, CAPTION_LIMIT), reply_markup=markup
            )
        if screen.photo is None:
            return await self.bot.send_message(
                chat_id,
                _cut(screen.text, TEXT_LIMIT),
                reply_markup=markup,
                message_thread_id=thread_id,
            )
        caption = _cut(screen.text, CAPTION_LIMIT)
        photo = await self._photo_input(screen)
        try:
            sent = await self.bot.send_photo(chat_id, photo, caption=caption, reply_markup=markup)
        except TelegramBadRequest as error:
            if not (isinstance(photo, str) and STALE_FILE in error.message):
                raise
            # The cached id is not this bot's (a new token): upload again.
            self.file_ids.forget(screen.photo.id)
            photo = await self._photo_input(screen)
            sent = await self.bot.send_photo(chat_id, photo, caption=caption, reply_markup=markup)
        await self._remember_upload(screen, photo, sent)
        return sent

    async def _send_invoice(self, chat_id: int, pay: PayOrder) -> Message:
        """Telegram Payments: the invoice message with its own Pay button."""
        async with self.readers() as session:
            order = await get_order(session, pay.order_id, customer_id=pay.customer_id)
        invoice = invoice_for(order, self.vat_code)
        return await self.bot.send_invoice(
            chat_id,
            title=invoice.title,
            description=invoice.description,
            payload=invoice.payload,
            provider_token=self.provider_token,
            currency=invoice.currency,
            prices=[LabeledPrice(label=label, amount=amount) for label, amount in invoice.prices],
            provider_data=invoice.provider_data,
            need_phone_number=invoice.needs_phone,
            send_phone_number_to_provider=invoice.needs_phone,
        )

    async def _photo_input(self, screen: Screen) -> str | BufferedInputFile:
        assert screen.photo is not None
        file_id = await self.file_ids.get(screen.photo.id)
        if file_id:
            return file_id
        async with self.readers() as session:
            data = await photo_data(session, screen.photo.id)
        return BufferedInputFile(data, filename=f"product-{screen.photo.id}.png")

    async def _remember_upload(
        self, screen: Screen, sent_as: str | BufferedInputFile, sent: Message
    ) -> None:
        if screen.photo is None or isinstance(sent_as, str) or not sent.photo:
            return
        await self.file_ids.save({screen.photo.id: sent.photo[-1].file_id})

    async def _replace(self, origin: Message, screen: Screen) -> None:
        """Edit ``origin`` into ``screen``; text<->photo switches delete and send anew."""
        markup = inline_keyboard(screen)
        chat_id, message_id = origin.chat.id, origin.message_id
        try:
            if screen.photo is not None and origin.photo:
                photo = await self._photo_input(screen)
                media = InputMediaPhoto(media=photo, caption=_cut(screen.text, CAPTION_LIMIT))
                edited = await self.bot.edit_message_media(
                    media=media, chat_id=chat_id, message_id=message_id, reply_markup=markup
                )
                if isinstance(edited, Message):
                    await self._remember_upload(screen, photo, edited)
                return
            if screen.photo is None and origin.text is not None:
                await self.bot.edit_message_text(
                    text=_cut(screen.text, TEXT_LIMIT),
                    chat_id=chat_id,
                    message_id=message_id,
                    reply_markup=markup,
                )
                return
        except TelegramBadRequest as error:
            if NOT_MODIFIED in error.message:
                return
            log.info("could not edit message %s (%s); sending anew", message_id, error.message)
            await self.send(chat_id, screen)
            return
        except GAVE_UP as error:  # the edit kept failing: the screen still reaches the person
            log.info("could not edit message %s (%r); sending anew", message_id, error)
            await self.send(chat_id, screen)
            return
        # Text <-> photo: the new screen first, then the old one goes (no empty flash).
        await self.send(chat_id, screen)
        # Too old to delete, or Telegram failing: the old message stays above.
        with contextlib.suppress(TelegramBadRequest, *GAVE_UP):
            await self.bot.delete_message(chat_id, message_id)
