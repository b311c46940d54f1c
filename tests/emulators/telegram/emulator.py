"""TelegramEmulator: a Bot API server on 127.0.0.1 that the real aiogram talks to.

The emulator hosts bots, people and chats; tests create them here, act
through ``Person`` (driver.py) and read what people see, what the bot called
(``calls``), and what the bot sent that the spec does not know
(``spec_warnings``).
"""

from __future__ import annotations

import json
import secrets
import string
import time
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from .driver import Group, Person
from .faults import Fault
from .limits import RateLimits, Sent
from .messages import now
from .server import build_app
from .settle import settle_bot, settle_update
from .spec import SPEC_PATH, Spec
from .state import BotState, CallRecord, ChatState, EmulatorConfig, StoredMessage, UserState, World
from .updates import enqueue, webhook_info
from .views import MessageView, TopicView, chat_messages

if TYPE_CHECKING:
    from pathlib import Path

    from aiogram import Bot

_SPECS: dict[Path, Spec] = {}


def _spec(path: Path) -> Spec:
    if path not in _SPECS:
        _SPECS[path] = Spec(path)
    return _SPECS[path]


class TelegramEmulator:
    """An emulated Telegram: Bot API over HTTP plus the people who use the bots.

    Options: ``rate_limits`` (True or a RateLimits: 429s for floods, off by
    default), ``callback_timeout`` (15 s), ``precheckout_timeout`` (10 s),
    ``quiet_period`` (0.05 s) and ``settle_timeout`` (5 s) for the driver,
    ``webhook_retry_delays``.
    """

    def __init__(
        self,
        *,
        rate_limits: bool | RateLimits = False,
        callback_timeout: float = 15.0,
        precheckout_timeout: float = 10.0,
        quiet_period: float = 0.05,
        settle_timeout: float = 5.0,
        webhook_retry_delays: tuple[float, ...] | None = None,
        spec_path: Path = SPEC_PATH,
    ) -> None:
        limits = rate_limits if isinstance(rate_limits, RateLimits) else RateLimits(rate_limits)
        config = EmulatorConfig(
            callback_timeout=callback_timeout,
            precheckout_timeout=precheckout_timeout,
            quiet_period=quiet_period,
            settle_timeout=settle_timeout,
            rate_limits=limits,
        )
        if webhook_retry_delays is not None:
            config.webhook_retry_delays = tuple(webhook_retry_delays)
        self.config = config
        self.world = World(config, _spec(spec_path))
        self.api_server_url = ""
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 = a free port); returns the base URL for aiogram."""
        self.world.stopping = False
        self.world.http = aiohttp.ClientSession()
        runner = web.AppRunner(
            build_app(self.world),
            handle_signals=False,
            handler_cancellation=True,
            access_log=None,
            shutdown_timeout=0.5,
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound = runner.addresses[0][1]
        self.api_server_url = f"http://{host}:{bound}"
        return self.api_server_url

    async def stop(self) -> None:
        """Release long polls, stop webhook delivery, close the server."""
        self.world.stopping = True
        for bot in self.world.bots.values():
            if bot.poller is not None:
                bot.poller.event.set()
            if bot.webhook is not None and bot.webhook.delivery is not None:
                bot.webhook.delivery.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.world.http is not None:
            await self.world.http.close()
            self.world.http = None

    async def __aenter__(self) -> TelegramEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- faults -----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 500,
        *,
        html: bool = False,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
        token: str | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id``, of bot ``token``, when
        given) are answered with HTTP ``status`` and Telegram's JSON error, or with an HTML
        page (``html``, a proxy's 502); with ``retry_after`` it is a 429 naming that wait.
        Nothing the call asked for happens."""
        if retry_after is not None:
            status = 429
        self.world.faults.append(
            Fault(method, status, html, False, retry_after, chat_id, token, times)
        )

    def drop_next(
        self, method: str, *, times: int = 1, chat_id: int | None = None, token: str | None = None
    ) -> None:
        """The next ``times`` calls of ``method`` get their connection closed, no answer."""
        self.world.faults.append(Fault(method, drop=True, chat_id=chat_id, token=token, left=times))

    def revoke_token(self, token: str) -> None:
        """Every call with ``token`` is answered 401 Unauthorized (as after /revoke in
        @BotFather) until `restore_token`."""
        self.world.revoked.add(token)
        bot = self.world.bots.get(token)
        if bot is not None and bot.poller is not None:
            bot.poller.event.set()  # a long poll in progress ends now (empty)

    def restore_token(self, token: str) -> None:
        self.world.revoked.discard(token)

    @property
    def rate_limits(self) -> RateLimits:
        """Switch flood control at run time: ``emu.rate_limits.enabled = True``."""
        return self.config.rate_limits

    @property
    def sends(self) -> list[Sent]:
        """Every message the bots sent (each message of an album), when, and to which chat:
        for rate figures (`limits.most_in_a_window`)."""
        return self.world.limiter.sent

    # -- bots, people, groups ---------------------------------------------------------

    def create_bot(
        self, username: str = "shop_bot", first_name: str | None = None, token: str | None = None
    ) -> str:
        """A new bot; returns its token ("<id>:<secret>")."""
        if token is not None:
            bot_id = int(token.split(":", 1)[0])
        else:
            bot_id = self.world.new_bot_id()
            alphabet = string.ascii_letters + string.digits + "_-"
            token = f"{bot_id}:" + "".join(secrets.choice(alphabet) for _ in range(35))
        user = UserState(bot_id, first_name or username, username=username, is_bot=True)
        self.world.bots[token] = BotState(token=token, user=user)
        return token

    def bot(self, token: str) -> BotState:
        return self.world.bots[token]

    def user(
        self,
        token: str,
        first_name: str = "User",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        phone: str | None = None,
        user_id: int | None = None,
        started: bool = True,
    ) -> Person:
        """A person with a private chat with the bot (``started=False``: never pressed Start).

        Passing the ``user_id`` of an existing person gives the same person a
        chat with another bot.
        """
        bot = self.world.bots[token]
        user = self.world.users.get(user_id) if user_id is not None else None
        if user is None:
            new_id = user_id if user_id is not None else self.world.new_user_id()
            user = UserState(
                new_id,
                first_name,
                last_name=last_name,
                username=username,
                language_code=language_code,
                phone=phone or f"+7900{new_id % 10_000_000:07d}",
            )
            self.world.users[user.id] = user
        if user.id not in bot.chats:
            bot.chats[user.id] = ChatState(user.id, "private", user=user, started=started)
        return Person(self, bot, user)

    def group(
        self,
        token: str,
        title: str = "Group",
        *,
        forum: bool = False,
        supergroup: bool = True,
        bot_admin: bool = True,
        username: str | None = None,
    ) -> Group:
        """A group the bot is in (an admin by default); ``forum=True`` has topics."""
        bot = self.world.bots[token]
        supergroup = supergroup or forum
        chat = ChatState(
            self.world.new_group_id(supergroup),
            "supergroup" if supergroup else "group",
            title=title,
            username=username,
            is_forum=forum,
        )
        chat.members[bot.user.id] = "administrator" if bot_admin else "member"
        bot.chats[chat.id] = chat
        return Group(self, bot, chat)

    async def migrate_group(self, group: Group, *, wait: bool = True) -> Group:
        """Upgrade a basic group to a supergroup, with both service messages."""
        bot = group._bot
        old = group.chat
        if old.type != "group":
            raise AssertionError(f"{group!r} is not a basic group")
        new = ChatState(
            self.world.new_group_id(True), "supergroup", title=old.title, members=dict(old.members)
        )
        bot.chats[new.id] = new
        records = []
        for chat, field, other in (
            (old, "migrate_to_chat_id", new),
            (new, "migrate_from_chat_id", old),
        ):
            api = {
                "message_id": chat.next_message_id(),
                "from": bot.user.to_api(),
                "chat": chat.to_api(),
                "date": now(),
                field: other.id,
            }
            chat.messages[api["message_id"]] = StoredMessage(api=api, from_bot=False)
            records.append(enqueue(self.world, bot, "message", api, chat_id=chat.id))
        old.migrated_to = new.id
        if wait:
            for record in records:
                await settle_update(self.world, bot, record, expect_reply=False, allow_dropped=True)
        return Group(self, bot, new)

    # -- what tests read --------------------------------------------------------------

    def calls(
        self, method: str | None = None, *, token: str | None = None, ok: bool | None = None
    ) -> list[CallRecord]:
        """The API calls made so far (getUpdates included), oldest first."""
        return [
            c
            for c in self.world.calls
            if (method is None or c.method == method)
            and (token is None or c.token == token)
            and (ok is None or c.ok == ok)
        ]

    @property
    def spec_warnings(self) -> list[str]:
        """Parameters and fields the bot sent that the Bot API spec copy does not know."""
        return self.world.spec_warnings

    @property
    def result_problems(self) -> list[str]:
        """Where the emulator's own answers fell short of the spec (should stay empty)."""
        return self.world.result_problems

    def messages(self, token: str, chat_id: int) -> list[MessageView]:
        return chat_messages(self.world.bots[token].chats[chat_id])

    def topics(self, token: str, chat_id: int) -> list[TopicView]:
        chat = self.world.bots[token].chats[chat_id]
        return [TopicView.of(chat, t) for _, t in sorted(chat.topics.items())]

    def commands(
        self, token: str, *, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        key = json.dumps(scope or {"type": "default"}, sort_keys=True)
        return list(self.world.bots[token].commands.get((key, language_code), []))

    def webhook_info(self, token: str) -> dict[str, Any]:
        return webhook_info(self.world.bots[token])

    def file_bytes(self, token: str, file_id: str) -> bytes:
        record = self.world.bots[token].files.get(file_id)
        if record is None:
            raise KeyError(file_id)
        return record.data

    async def settle(self, token: str, *, within: float | None = None) -> None:
        """Wait until the bot has made no call for the quiet period (e.g. after outbox work)."""
        await settle_bot(self.world, self.world.bots[token], within)

    async def wait_polling(self, token: str, *, within: float | None = None) -> None:
        """Until the bot has a getUpdates long poll waiting: it is up and listening."""
        bot = self.world.bots[token]
        deadline = time.monotonic() + (self.config.settle_timeout if within is None else within)
        while bot.poller is None:
            if time.monotonic() >= deadline:
                raise AssertionError(f"@{bot.user.username} is not long-polling")
            await bot.activity.wait(deadline - time.monotonic())

    def make_bot(self, token: str, **bot_options: Any) -> Bot:
        """A real aiogram Bot whose session talks to this emulator."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        api = TelegramAPIServer.from_base(self.api_server_url)
        return Bot(token, session=AiohttpSession(api=api), **bot_options)
