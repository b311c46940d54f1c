"""Building and running the Telegram bot: long polling, or a webhook with a secret token.

Either way an update is committed to the inbox before Telegram is told it arrived (the next
getUpdates offset, or the webhook's 200), then handled from there by the aiogram Dispatcher.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from dataclasses import replace
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.types import BotCommand, BotCommandScopeDefault, Update
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import health
from bot.frontend import Answering
from bot.inbox import InboxWorker
from bot.telegram import responses, retry, send_budget
from bot.telegram.render import CAPTION_LIMIT, TEXT_LIMIT, TelegramRenderer
from bot.telegram.router import blocked, make_router
from bot.telegram.sender import edit_card, send_outbox_screen
from handlers.conversation import Conversation
from handlers.events import Attachment, Capabilities
from handlers.screens import Screen
from handlers.texts import t
from shop.accounts import Channel
from shop.customers import pick_language
from shop.inbox import Arrival, Entry

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/telegram"
ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query"]
SOURCE = Channel.TELEGRAM.value
INLINE_BUTTONS = 100
LABEL_LENGTH = 40
"""Characters of a label that show whole on a phone (Telegram itself sets no limit)."""
POLL_TIMEOUT = 25
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
BACKOFF_FIRST, BACKOFF_LONGEST = 0.5, 5.0
"""Polling again after a failure (Telegram or the database unreachable): seconds."""
UNAUTHORIZED_RETRY_SECONDS = 30.0
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
    send_budget.install(bot)  # bot/budget.py: innermost, each retry of a send takes its place
    health.watch_telegram(bot)  # /healthz: each call's outcome
    return bot


def _sender(raw: dict[str, Any]) -> dict[str, Any]:
    """Who an update comes from (its sender, else its chat), as a raw dict; {} if no one."""
    for value in raw.values():
        if not isinstance(value, dict):
            continue
        for key in ("from", "user", "chat"):
            who = value.get(key)
            if isinstance(who, dict) and isinstance(who.get("id"), int):
                return who
    return {}


def sender_lane(raw: dict[str, Any]) -> str:
    """Whose events an update belongs to: one person's are handled one at a time, in order."""
    return f"{SOURCE}:{_sender(raw).get('id', '-')}"


def arrival(raw: dict[str, Any], parsed: Update | None = None) -> Arrival:
    return Arrival(SOURCE, str(raw["update_id"]), sender_lane(raw), raw, parsed)


def command_list(lang: str) -> list[BotCommand]:
    """The /-menu in ``lang``: button texts without their emoji."""
    return [
        BotCommand(command=name, description=t(lang, COMMAND_TEXTS[name]).split(" ", 1)[-1])
        for name in COMMANDS
    ]


class TelegramFrontend:
    """The Telegram bot (invoices when ``provider_token`` is set); a `bot.frontend.Frontend`."""

    channel = Channel.TELEGRAM

    def __init__(
        self,
        bot: Bot,
        conversation: Conversation,
        sessions: async_sessionmaker[AsyncSession],
        worker: InboxWorker,
        *,
        readers: async_sessionmaker[AsyncSession] | None = None,
        webhook_url: str = "",
        webhook_secret: str = "",
        provider_token: str = "",
    ) -> None:
        self.bot = bot
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.conversation = conversation
        self.worker = worker
        self.renderer = TelegramRenderer(
            bot, sessions, readers or sessions, provider_token, conversation.options.vat_code
        )
        self._capabilities = Capabilities(
            share_contact=True,
            native_invoice=bool(provider_token),
            text_length=TEXT_LIMIT,
            caption_length=CAPTION_LIMIT,
            buttons_per_screen=INLINE_BUTTONS,
            label_length=LABEL_LENGTH,
        )
        answering = Answering(
            conversation, sessions, self.channel, lambda: self._capabilities, blocked
        )
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(make_router())
        self.dispatcher["answering"] = answering
        self.dispatcher["renderer"] = self.renderer
        self.dispatcher["sessions"] = sessions
        self._polling: asyncio.Task[None] | None = None
        worker.register(SOURCE, self.handle_entry, on_parked=self.apologise)
        conversation.fetchers[self.channel.value] = self.fetch

    async def fetch(self, attachment: Attachment) -> bytes:
        """A file a person sent: getFile, then the download from the Bot API's file URL."""
        buffer = await self.bot.download(attachment.ref)
        assert buffer is not None  # no destination given: aiogram returns the bytes
        return buffer.read()

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    async def send(self, external_id: int, screen: Screen, *, key: str) -> None:
        await send_outbox_screen(self.renderer, external_id, screen)

    async def post_card(self, external_id: int, screen: Screen, *, key: str) -> int:
        """Send a staff order card; its message id is kept to edit it later."""
        return await send_outbox_screen(self.renderer, external_id, screen)

    async def edit_card(self, external_id: int, message_id: int, screen: Screen) -> None:
        await edit_card(self.renderer, external_id, message_id, screen)

    def add_routes(self, app: web.Application) -> None:
        """Register the webhook endpoint (before the HTTP server starts)."""
        if self.webhook_url:
            app.router.add_post(WEBHOOK_PATH, self.webhook)

    async def start(self) -> None:
        me = await self.bot.get_me()
        self.dispatcher["bot_username"] = me.username or ""
        self._capabilities = replace(self._capabilities, return_url=f"https://t.me/{me.username}")
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
        self._polling = asyncio.create_task(self._poll_forever(), name="telegram-polling")
        log.info("Telegram: @%s polls for updates", me.username)

    async def stop(self) -> None:
        if self._polling is not None:
            self._polling.cancel()
            await asyncio.gather(self._polling, return_exceptions=True)
        await self.bot.session.close()

    # receiving

    async def _poll_forever(self) -> None:
        """getUpdates; the offset moves past updates only once the inbox holds them, so a
        crash or a database outage makes Telegram send them again."""
        offset: int | None = None
        delay = BACKOFF_FIRST
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=POLL_TIMEOUT,
                    allowed_updates=ALLOWED_UPDATES,
                    request_timeout=POLL_TIMEOUT + 10,
                )
                if updates:
                    await self.worker.accept([self._polled(update) for update in updates])
                    offset = updates[-1].update_id + 1
                delay = BACKOFF_FIRST
            except asyncio.CancelledError:
                raise
            except TelegramUnauthorizedError:
                log.error("Telegram: the bot token was refused (Unauthorized); retrying")
                await asyncio.sleep(UNAUTHORIZED_RETRY_SECONDS)
            except Exception as error:
                log.warning("Telegram polling failed (%r); again in %.1f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_LONGEST)

    @staticmethod
    def _polled(update: Update) -> Arrival:
        raw = update.model_dump(mode="json", exclude_unset=True, by_alias=True)
        return arrival(raw, update)

    async def webhook(self, request: web.Request) -> web.Response:
        """Check the secret, store the update, then answer 200 (503 if it cannot be stored,
        so Telegram delivers it again); a body that is no update gets 400."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            log.warning("Telegram webhook call with a wrong secret from %s", request.remote)
            return web.Response(status=401, text="unauthorized")
        try:
            raw = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(raw, dict) or type(raw.get("update_id")) is not int:
            return web.Response(status=400, text="not an update")
        try:
            await self.worker.accept([arrival(raw)])
        except Exception as error:
            log.warning(
                "Telegram update %s not stored (%r): asking for it again", raw["update_id"], error
            )
            return web.Response(status=503, text="try again")
        return web.Response(text="ok")

    # handling

    async def handle_entry(self, entry: Entry) -> None:
        """Run a stored update through the Dispatcher; its handlers take ``entry``."""
        update = entry.parsed
        if update is None:
            update = Update.model_validate(entry.payload, context={"bot": self.bot})
        await self.dispatcher.feed_update(self.bot, update, entry=entry)

    async def apologise(self, entry: Entry) -> None:
        """An update that could not be handled after several tries: say so to its sender."""
        person = entry.lane.partition(":")[2]
        if person.lstrip("-").isdigit() and int(person) > 0:
            language = pick_language(_sender(entry.payload).get("language_code"))
            await self.bot.send_message(int(person), t(language, "error.generic"))
