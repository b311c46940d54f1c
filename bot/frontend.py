"""What every front-end is to the process, and the part of answering written once for all.

`bot.app` builds the list of front-ends; nothing else needs to know which channels there are.
A front-end turns its platform's updates into Events (stamped with its `Capabilities`), hands
them to `Answering`, and renders the Reply it gets back with its own means.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import patience
from handlers.conversation import Conversation
from handlers.events import Capabilities, Event
from handlers.screens import Button, Reply, Screen
from handlers.texts import t
from shop.accounts import AccountRef, Channel
from shop.billing import start_payment
from shop.customers import mark_unreachable
from shop.errors import ShopError
from shop.inbox import Entry

log = logging.getLogger(__name__)

ANSWER_WITHIN = 1.0
"""Seconds a button press waits for its toast; a slower conversation answers it bare."""
TYPING_AFTER = 0.3
"""Seconds of handling after which the person sees "typing…" (a quick answer costs no call)."""
TYPING_EVERY = 4.0
"""Seconds between "typing…" signals while handling goes on (Telegram shows one for 5 s)."""
TYPING_PATIENCE = 2.0
"""Seconds one signal may take before it is given up."""


class Frontend(Protocol):
    """One channel: its HTTP routes, its lifetime, and sending a screen to an account."""

    channel: Channel

    @property
    def capabilities(self) -> Capabilities:
        """What the channel can show (stamped on every Event it makes)."""
        ...

    def add_routes(self, app: web.Application) -> None:
        """Register its endpoints (webhooks) before the HTTP server starts."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, external_id: int, screen: Screen, *, key: str) -> None:
        """Send one outbox screen. ``key`` is the same for every try of one message; raises
        `bot.delivery.Unreachable` or `bot.delivery.RetryLater` for the platform's refusals."""
        ...


Show = Callable[[Reply], Awaitable[None]]
AnswerPress = Callable[[str | None], Awaitable[None]]
Typing = Callable[[], Awaitable[None]]


class Answering:
    """Runs an Event through the conversation and shows the Reply, the same for every channel.

    A button press is answered at once with its toast when the conversation is quick
    (within `ANSWER_WITHIN`), else bare right then; a person who blocked the bot is marked
    unreachable instead of failing the event; a `PayOrder` becomes a payment link where the
    channel has no invoice of its own.
    """

    def __init__(
        self,
        conversation: Conversation,
        sessions: async_sessionmaker[AsyncSession],
        channel: Channel,
        capabilities: Callable[[], Capabilities],
        blocked: Callable[[BaseException], bool],
        *,
        toast_after_screen: bool = False,
        typing_after: float = TYPING_AFTER,
    ) -> None:
        self.typing_after = typing_after
        self.conversation = conversation
        self.sessions = sessions
        self.channel = channel
        self.capabilities = capabilities
        self.blocked = blocked
        self.toast_after_screen = toast_after_screen
        """VK: the spinner spans the whole change; Telegram: answer and screen side by side."""

    async def answer(
        self,
        event: Event,
        entry: Entry | None,
        show: Show,
        press: AnswerPress | None = None,
        *,
        caps: Capabilities | None = None,
        typing: Typing | None = None,
    ) -> None:
        """Handle ``event`` and show its reply (``press`` answers a button press; ``caps``,
        what this person's app can show where it differs from the channel's; ``typing``
        shows "typing…" in the chat while a slow reply is being prepared)."""
        event = replace(event, caps=caps or self.capabilities())
        handling = asyncio.ensure_future(self.reply(event, entry))
        signalling = asyncio.ensure_future(self._typing(handling, typing)) if typing else None
        done = True
        try:
            if press is not None:
                finished, _ = await asyncio.wait({handling}, timeout=ANSWER_WITHIN)
                done = bool(finished)
                if not done:
                    await press(None)
            reply = await handling
        finally:
            if signalling is not None:  # its last signal goes before the reply, never after
                await asyncio.wait({handling})
                await signalling
        if entry is not None and not entry.taken:
            return  # handled before, or not its turn yet: the inbox sees to it
        showing = self._show(event, show, reply)
        if press is None or not done:
            await showing
        elif self.toast_after_screen:
            try:
                await showing
            finally:
                await press(reply.toast)
        else:
            await asyncio.gather(press(reply.toast), showing)

    async def _typing(self, handling: asyncio.Future[Reply], typing: Typing) -> None:
        """Signal "typing…" once handling has taken `typing_after` seconds, and again every
        `TYPING_EVERY` seconds until it ends; a failed signal is only logged."""
        finished, _ = await asyncio.wait({handling}, timeout=self.typing_after)
        while not finished:
            try:
                with patience.outbox_send():  # quick to give up: the reply must not wait
                    await asyncio.wait_for(typing(), TYPING_PATIENCE)
            except Exception as error:
                log.info("could not show typing: %r", error)
            finished, _ = await asyncio.wait({handling}, timeout=TYPING_EVERY)

    async def reply(self, event: Event, entry: Entry | None = None) -> Reply:
        """The conversation's Reply with its payments made into links where needed."""
        reply = await self.conversation.handle(event, entry)
        if event.caps.native_invoice or not any(s.pay for s in reply.screens):
            return reply
        try:
            screens = [await self._with_link(event, screen) for screen in reply.screens]
        except ShopError as error:
            language = next(s.pay.language for s in reply.screens if s.pay)
            return Conversation.refusal(event, language, error)
        return Reply(screens, reply.toast)

    async def _with_link(self, event: Event, screen: Screen) -> Screen:
        """The screen with a button to the payment page first (a YooKassa link)."""
        if screen.pay is None:
            return screen
        gateway = self.conversation.options.gateway
        if gateway is None:
            raise ShopError("payment_unavailable", order_id=screen.pay.order_id)
        pay = screen.pay
        url = await start_payment(
            self.sessions, gateway, pay.order_id, pay.customer_id, event.caps.return_url
        )
        link = (Button(t(pay.language, "btn.pay_link"), url=url),)
        return replace(screen, buttons=(link, *screen.buttons), pay=None)

    async def _show(self, event: Event, show: Show, reply: Reply) -> None:
        try:
            await show(reply)
        except Exception as error:
            if not self.blocked(error):
                raise
            account = AccountRef(self.channel, event.account.external_id)
            async with self.sessions() as session, session.begin():
                await mark_unreachable(session, account)
            log.info("%s takes no messages (%s); marked unreachable", account, error)
