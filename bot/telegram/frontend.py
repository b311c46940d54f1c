"""Building and running the Telegram bot: long polling, or a webhook with a secret token."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram import responses, retry
from bot.telegram.render import TelegramRenderer
from bot.telegram.router import make_router
from handlers.conversation import Conversation
from handlers.texts import t

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/telegram"
ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query"]
COMMANDS = ("start", "catalog", "cart", "orders", "help")
COMMAND_TEXTS = {
    "start": "btn.menu",
    "catalog": "btn.catalog",
    "cart": "btn.cart",
    "orders": "btn.orders",
    "help": "btn.help",
}


def make_bot(token: str, api_server: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_server))
    bot = Bot(token, session=session)
    retry.install(bot)
    responses.install(bot)
    return bot


def command_list(lang: str) -> list[BotCommand]:
    """The /-menu in ``lang``: button texts without their emoji."""
    return [
        BotCommand(command=name, description=t(lang, COMMAND_TEXTS[name]).split(" ", 1)[-1])
        for name in COMMANDS
    ]


class TelegramFrontend:
    def __init__(
        self,
        bot: Bot,
        conversation: Conversation,
        sessions: async_sessionmaker[AsyncSession],
        *,
        webhook_url: str = "",
        webhook_secret: str = "",
        provider_token: str = "",
    ) -> None:
        self.bot = bot
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.conversation = conversation
        self.renderer = TelegramRenderer(bot, sessions, provider_token)
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(make_router())
        self.dispatcher["conversation"] = conversation
        self.dispatcher["renderer"] = self.renderer
        self.dispatcher["sessions"] = sessions
        self._polling: asyncio.Task[None] | None = None

    def add_routes(self, app: web.Application) -> None:
        """Register the webhook endpoint (before the HTTP server starts)."""
        if self.webhook_url:
            SimpleRequestHandler(
                self.dispatcher, self.bot, secret_token=self.webhook_secret
            ).register(app, path=WEBHOOK_PATH)

    async def start(self) -> None:
        me = await self.bot.get_me()
        self.dispatcher["bot_username"] = me.username or ""
        self.conversation.options.return_urls.setdefault("telegram", f"https://t.me/{me.username}")
        await self.bot.set_my_commands(command_list("ru"), scope=BotCommandScopeDefault())
        await self.bot.set_my_commands(
            command_list("en"), scope=BotCommandScopeDefault(), language_code="en"
        )
        if self.webhook_url:
            await self.bot.set_webhook(
                self.webhook_url + WEBHOOK_PATH,
                secret_token=self.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("Telegram: @%s receives updates by webhook", me.username)
            return
        await self.bot.delete_webhook()
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=ALLOWED_UPDATES,
                polling_timeout=25,
            )
        )
        log.info("Telegram: @%s polls for updates", me.username)

    async def stop(self) -> None:
        if self._polling is not None:
            with contextlib.suppress(RuntimeError):  # polling had not started yet
                await self.dispatcher.stop_polling()
            self._polling.cancel()
            await asyncio.gather(self._polling, return_exceptions=True)
        await self.bot.session.close()
