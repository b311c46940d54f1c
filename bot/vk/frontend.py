"""Running the VK bot: Bots Long Poll in a thread, or the Callback API behind the web app.

Either way each group event becomes a VkUpdate and is handled in the background; one
person's events are handled in the order they came, different people's side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import threading
from dataclasses import replace
from typing import Any

import vk_api
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from vk_api.bot_longpoll import VkBotLongPoll

from bot.vk.calls import UNREACHABLE, error_code
from bot.vk.events import VkUpdate, parse_update
from bot.vk.names import DisplayNames
from bot.vk.render import VkRenderer
from handlers.conversation import Conversation
from handlers.screens import Reply
from shop.accounts import AccountRef, Channel
from shop.customers import mark_unreachable

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/vk"
ANSWER_WITHIN = 1.0  # seconds before a button press is answered with no snackbar
STOP_WITHIN = 5.0
LONGPOLL_WAIT = 25


class VkFrontend:
    """One community's bot. ``callback_url`` set means Callback API mode, else long poll."""

    def __init__(
        self,
        vk: vk_api.VkApi,
        conversation: Conversation,
        sessions: async_sessionmaker[AsyncSession],
        *,
        group_id: int,
        callback_url: str = "",
        callback_secret: str = "",
        confirmation: str = "",
        longpoll_wait: int = LONGPOLL_WAIT,
    ) -> None:
        self.vk = vk
        self.conversation = conversation
        self.sessions = sessions
        self.group_id = group_id
        self.callback_url = callback_url
        self.callback_secret = callback_secret
        self.confirmation = confirmation
        self.longpoll_wait = longpoll_wait
        self.renderer = VkRenderer(vk, sessions)
        self.names = DisplayNames(vk)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._queues: dict[int, tuple[asyncio.Lock, int]] = {}

    # starting and stopping

    def add_routes(self, app: web.Application) -> None:
        """Register the Callback API endpoint (before the HTTP server starts)."""
        if self.callback_url:
            app.router.add_post(WEBHOOK_PATH, self.callback_handler)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.callback_url:
            if not self.confirmation:
                log.error("VK: VK_CALLBACK_CONFIRMATION is empty; VK cannot confirm the URL")
            log.info(
                "VK: community %s receives events at %s%s (Callback API, API 5.199)",
                self.group_id,
                self.callback_url,
                WEBHOOK_PATH,
            )
            return
        poll = await asyncio.to_thread(VkBotLongPoll, self.vk, self.group_id, self.longpoll_wait)
        self._poller = threading.Thread(
            target=self._poll_forever, args=(poll,), name="vk-long-poll", daemon=True
        )
        self._poller.start()
        log.info("VK: community %s polls for events (Bots Long Poll)", self.group_id)

    async def stop(self) -> None:
        """Stop taking events, let those being handled finish (a few seconds at most)."""
        self._stopping.set()
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=STOP_WITHIN)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        # The poller may be held in a long poll request: it ends on its own, as a daemon.

    # receiving

    def _poll_forever(self, poll: VkBotLongPoll) -> None:
        """The long poll loop (a thread: vk_api blocks); events go to the event loop."""
        delay = 1.0
        while not self._stopping.is_set():
            try:
                events = poll.check()
                delay = 1.0
            except Exception as error:  # network trouble, VK down: try again, backing off
                if self._stopping.is_set():
                    return
                log.warning("VK long poll failed (%r); again in %.0f s", error, delay)
                self._stopping.wait(delay)
                delay = min(delay * 2, 30.0)
                with contextlib.suppress(Exception):
                    poll.update_longpoll_server(update_ts=False)
                continue
            if self._stopping.is_set():
                if events:
                    log.warning("VK: stopping; %d events fetched just now are dropped", len(events))
                return
            assert self._loop is not None
            for event in events:
                try:
                    self._loop.call_soon_threadsafe(self.accept, event.raw)
                except RuntimeError:  # the event loop is closed: the process is ending
                    return

    async def callback_handler(self, request: web.Request) -> web.Response:
        """Callback API: the confirmation string, or "ok" at once and the event handled after."""
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="bad request")
        if not isinstance(body, dict) or body.get("group_id") != self.group_id:
            return web.Response(status=403, text="wrong community")
        if body.get("type") == "confirmation":
            return web.Response(text=self.confirmation)
        secret = str(body.get("secret") or "")
        if self.callback_secret and not hmac.compare_digest(
            secret.encode(), self.callback_secret.encode()
        ):
            log.warning("VK callback with a wrong secret from %s", request.remote)
            return web.Response(status=403, text="wrong secret")
        self.accept(body)
        return web.Response(text="ok")

    def accept(self, raw: dict[str, Any]) -> None:
        """Take one group event: handle it in the background, after the person's earlier ones."""
        if self._stopping.is_set():
            return
        update = parse_update(raw, self.group_id)
        if update is None:
            return
        task = asyncio.get_running_loop().create_task(self._in_order(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _in_order(self, update: VkUpdate) -> None:
        lock, waiting = self._queues.get(update.peer_id, (asyncio.Lock(), 0))
        self._queues[update.peer_id] = (lock, waiting + 1)
        try:
            async with lock:
                await self._handle(update)
        except Exception:
            log.exception("failed to answer %s", update.event)
        finally:
            lock, waiting = self._queues[update.peer_id]
            if waiting > 1:
                self._queues[update.peer_id] = (lock, waiting - 1)
            else:
                del self._queues[update.peer_id]

    # answering

    async def _handle(self, update: VkUpdate) -> None:
        event, press = update.event, update.press
        self.renderer.remember_client(update.peer_id, update.inline_ok)
        if press is None:
            event = replace(event, display_name=await self.names.name(update.peer_id))
            reply = await self.conversation.handle(event)
            await self._show(update, reply, origin_cmid=None)
            return
        # The press is answered once its screen is shown (the spinner spans the whole
        # change), or at once with no snackbar when the conversation is slow.
        handling = asyncio.ensure_future(self.conversation.handle(event))
        done, _ = await asyncio.wait({handling}, timeout=ANSWER_WITHIN)
        if not done:
            await self.renderer.answer(press, None)
        reply = await handling
        try:
            await self._show(update, reply, origin_cmid=press.cmid)
        finally:
            if done:
                await self.renderer.answer(press, reply.toast)

    async def _show(self, update: VkUpdate, reply: Reply, origin_cmid: int | None) -> None:
        try:
            await self.renderer.show(
                update.peer_id,
                reply,
                update_id=update.event.update_id,
                origin_cmid=origin_cmid,
                toast_as_text=update.press is None,
            )
        except vk_api.ApiError as error:
            if error_code(error) not in UNREACHABLE:
                raise
            async with self.sessions() as session, session.begin():
                await mark_unreachable(session, AccountRef(Channel.VK, update.peer_id))
            log.info("vk:%s takes no messages (%s); marked unreachable", update.peer_id, error)
