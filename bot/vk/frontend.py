"""Running the VK bot: Bots Long Poll in a thread, or the Callback API behind the web app.

Either way each group event is committed to the inbox before VK is told it arrived (the
long poll's next ``ts`` is saved with the events it delivered; the callback answers "ok"
after the commit), then handled from there: one person's events in the order they came,
different people's side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import threading
from dataclasses import replace

import vk_api
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from vk_api.bot_longpoll import VkBotLongPoll

from bot import health
from bot.frontend import TYPING_AFTER, Answering
from bot.inbox import InboxWorker
from bot.vk import setup
from bot.vk.calls import UNREACHABLE, error_code
from bot.vk.events import VkUpdate, arrival, consent_change, parse_update
from bot.vk.keyboards import INLINE_BUTTONS, LABEL_LIMIT
from bot.vk.names import DisplayNames
from bot.vk.render import TEXT_LIMIT, VkRenderer
from bot.vk.sender import send_outbox_screen
from bot.vk_session import VK_API_VERSION
from handlers.conversation import Conversation
from handlers.events import Capabilities
from handlers.screens import Reply, Screen
from handlers.texts import t
from shop import inbox
from shop.accounts import AccountRef, Channel
from shop.customers import mark_reachable, mark_unreachable, pick_language
from shop.inbox import Entry

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/vk"
LONGPOLL_WAIT = 25


def blocked(error: BaseException) -> bool:
    """The person takes no messages from the community (blocked it, or never may)."""
    return isinstance(error, vk_api.ApiError) and error_code(error) in UNREACHABLE


class VkFrontend:
    """One community's bot. ``callback_url`` set means Callback API mode, else long poll; a
    `bot.frontend.Frontend`."""

    channel = Channel.VK

    def __init__(
        self,
        vk: vk_api.VkApi,
        conversation: Conversation,
        sessions: async_sessionmaker[AsyncSession],
        worker: InboxWorker,
        *,
        group_id: int,
        readers: async_sessionmaker[AsyncSession] | None = None,
        callback_url: str = "",
        callback_secret: str = "",
        confirmation: str = "",
        longpoll_wait: int = LONGPOLL_WAIT,
        typing_after: float = TYPING_AFTER,
    ) -> None:
        self.vk = vk
        self.conversation = conversation
        self.sessions = sessions
        self.group_id = group_id
        self.callback_url = callback_url
        self.callback_secret = callback_secret
        self.confirmation = confirmation
        self.longpoll_wait = longpoll_wait
        self.renderer = VkRenderer(vk, sessions, readers or sessions)
        self._capabilities = Capabilities(
            text_length=TEXT_LIMIT,
            caption_length=TEXT_LIMIT,
            buttons_per_screen=INLINE_BUTTONS,
            label_length=LABEL_LIMIT,
            return_url=f"https://vk.me/club{group_id}",
        )
        self.answering = Answering(
            conversation,
            sessions,
            self.channel,
            lambda: self._capabilities,
            blocked,
            toast_after_screen=True,
            typing_after=typing_after,
        )
        self.names = DisplayNames(vk)
        self.worker = worker
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None
        worker.register(self.channel.value, self.handle_entry, on_parked=self.apologise)

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    async def send(self, external_id: int, screen: Screen, *, key: str) -> None:
        await send_outbox_screen(self.renderer, external_id, screen, key=key)

    async def apologise(self, entry: Entry) -> None:
        """An event that could not be handled after several tries: say so to its sender
        (once: the key makes VK drop a repeat)."""
        update = parse_update(entry.payload, self.group_id)
        if update is not None:
            language = pick_language(update.event.language_code)
            apology = Screen(t(language, "error.generic"))
            await self.send(update.peer_id, apology, key=f"parked:{entry.id}")

    @property
    def position_key(self) -> str:
        """Where the long poll's ``ts`` is saved (one per community)."""
        return f"vk:{self.group_id}"

    # starting and stopping

    def add_routes(self, app: web.Application) -> None:
        """Register the Callback API endpoint (before the HTTP server starts)."""
        if self.callback_url:
            app.router.add_post(WEBHOOK_PATH, self.callback_handler)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.callback_url:
            await self._register_callback()
            return
        try:
            await setup.enable_long_poll(self.vk, self.group_id)
        except Exception as error:
            raise setup.setup_problem(error, "Long Poll API") from error
        poll = await asyncio.to_thread(VkBotLongPoll, self.vk, self.group_id, self.longpoll_wait)
        async with self.sessions() as session:
            saved = await inbox.load_position(session, self.position_key)
        if saved is not None:
            poll.ts = saved  # resume where the last run stopped: nothing sent meanwhile is lost
        self._poller = threading.Thread(
            target=self._poll_forever, args=(poll,), name="vk-long-poll", daemon=True
        )
        self._poller.start()
        log.info("VK: community %s polls for events (Bots Long Poll)", self.group_id)

    async def _register_callback(self) -> None:
        """Know the confirmation string first (VK asks for it as soon as the server is
        added), then register the server and its events with the community."""
        url = self.callback_url + WEBHOOK_PATH
        try:
            if not self.confirmation:
                self.confirmation = await setup.confirmation_code(self.vk, self.group_id)
            await setup.register_callback_server(self.vk, self.group_id, url, self.callback_secret)
        except Exception as error:
            raise setup.setup_problem(error, "Callback API server") from error
        log.info(
            "VK: community %s receives events at %s (Callback API, API %s)",
            self.group_id,
            url,
            VK_API_VERSION,
        )

    async def stop(self) -> None:
        """Stop taking events; the poller may be held in a long poll request: it ends on its
        own, as a daemon, and what it fetched then is fetched again by the next run."""
        self._stopping.set()

    # receiving

    def _poll_forever(self, poll: VkBotLongPoll) -> None:
        """The long poll loop (a thread: vk_api blocks). The next ``ts`` is saved with the
        events in one transaction; if that fails the same events are asked for again."""
        delay = 1.0
        assert self._loop is not None
        liveness = health.component("vk", polling=True)  # /healthz
        while not self._stopping.is_set():
            before = poll.ts
            try:
                events = poll.check()
                liveness.succeeded(poll=True)
            except Exception as error:  # network trouble, VK down: try again, backing off
                liveness.failed(error)
                if self._stopping.is_set():
                    return
                log.warning("VK long poll failed (%r); again in %.0f s", error, delay)
                self._stopping.wait(delay)
                delay = min(delay * 2, 30.0)
                with contextlib.suppress(Exception):
                    poll.update_longpoll_server(update_ts=False)
                continue
            if self._stopping.is_set() or not events:
                continue
            arrivals = [arrival(event.raw) for event in events]
            storing = self.worker.accept(arrivals, position=(self.position_key, str(poll.ts)))
            try:
                asyncio.run_coroutine_threadsafe(storing, self._loop).result()
                delay = 1.0
            except Exception as error:
                if self._stopping.is_set():
                    return
                log.warning("VK events not stored (%r); asking again in %.1f s", error, delay)
                poll.ts = before
                self._stopping.wait(delay)
                delay = min(delay * 2, 5.0)

    async def callback_handler(self, request: web.Request) -> web.Response:
        """Callback API: the confirmation string, or "ok" once the event is stored (an error
        status otherwise, so VK sends it again)."""
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="bad request")
        if not isinstance(body, dict) or body.get("group_id") != self.group_id:
            return web.Response(status=403, text="wrong community")
        if body.get("type") == "confirmation":
            return web.Response(text=self.confirmation)
        secret = str(body.get("secret") or "")
        if not self.callback_secret or not hmac.compare_digest(
            secret.encode(), self.callback_secret.encode()
        ):
            log.warning("VK callback with a wrong secret from %s", request.remote)
            return web.Response(status=403, text="wrong secret")
        if not isinstance(body.get("type"), str) or not isinstance(body.get("object"), dict):
            return web.Response(status=400, text="bad request")
        try:
            await self.worker.accept([arrival(body)])
        except Exception as error:
            log.warning("VK event not stored (%r): VK will send it again", error)
            return web.Response(status=503, text="try again")
        health.component("vk").succeeded()  # /healthz
        return web.Response(text="ok")

    async def handle_entry(self, entry: Entry) -> None:
        """Answer a stored group event (the ones the shop does not answer are just taken)."""
        if self._stopping.is_set():
            raise ConnectionError("stopping")  # left pending for the next run
        consent = consent_change(entry.payload, self.group_id)
        if consent is not None:
            await self._note_consent(*consent)
            return
        update = parse_update(entry.payload, self.group_id)
        if update is not None:
            await self._handle(update, entry)

    async def _note_consent(self, user_id: int, allowed: bool) -> None:
        """The person allowed or denied the community's messages: the outbox stops or
        resumes sending there (the same either way however often it comes)."""
        account = AccountRef(Channel.VK, user_id)
        async with self.sessions() as session, session.begin():
            await (mark_reachable if allowed else mark_unreachable)(session, account)
        log.info("%s %s messages", account, "allowed" if allowed else "denied")

    # answering

    async def _handle(self, update: VkUpdate, entry: Entry) -> None:
        event, press = update.event, update.press
        self.renderer.remember_client(update.peer_id, update.inline_ok, update.numbered)
        caps = self._capabilities
        if update.numbered:
            caps = replace(caps, numbered_choices=True)
        if press is None:
            event = replace(event, display_name=await self.names.name(update.peer_id))

        async def show(reply: Reply) -> None:
            await self.renderer.show(
                update.peer_id,
                reply,
                update_id=update.event.update_id,
                origin_cmid=press.cmid if press is not None else None,
                toast_as_text=press is None,
            )

        async def typing() -> None:
            await self.renderer.typing(update.peer_id)

        if press is None:
            await self.answering.answer(event, entry, show, caps=caps, typing=typing)
            return

        async def answer_press(toast: str | None) -> None:
            await self.renderer.answer(press, toast)

        await self.answering.answer(event, entry, show, answer_press, caps=caps, typing=typing)
