"""A minimal third front-end: a web chat, or a console, speaking JSON over HTTP.

``POST /console/{person}`` with ``{"text": "/start"}`` (a command or text) or
``{"action": "c"}`` (a pressed button) answers ``{"screens": [...], "toast": ...}``; each
screen as the outbox stores it, plus ``replace`` (it takes the place of the pressed one).
``GET /console/{person}`` hands over what was sent to that person later (the outbox).
It is handled in-process, not through the inbox: nothing is acknowledged to a platform.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.frontend import Answering
from handlers.conversation import Conversation
from handlers.events import Capabilities, Event, EventKind
from handlers.screens import Reply, Screen, screen_to_payload
from shop.accounts import AccountRef, Channel

PATH = "/console/{person}"
TEXT_LENGTH = 4000
MAX_BODY = 8_000


@dataclass
class Shown:
    """What the person saw in answer to one thing they did."""

    screens: list[Screen] = field(default_factory=list)
    toast: str | None = None

    def as_json(self) -> dict[str, Any]:
        screens = [{**screen_to_payload(s), "replace": s.replace} for s in self.screens]
        return {"screens": screens, "toast": self.toast}


def _never_blocked(error: BaseException) -> bool:
    return False


class ConsoleFrontend:
    """The console channel; a `bot.frontend.Frontend`."""

    channel = Channel.CONSOLE

    def __init__(
        self,
        conversation: Conversation,
        sessions: async_sessionmaker[AsyncSession],
        *,
        return_url: str = "",
    ) -> None:
        self._capabilities = Capabilities(
            text_length=TEXT_LENGTH, caption_length=TEXT_LENGTH, return_url=return_url
        )
        self.answering = Answering(
            conversation, sessions, self.channel, lambda: self._capabilities, _never_blocked
        )
        self.later: defaultdict[int, list[Screen]] = defaultdict(list)

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(PATH, self.post)
        app.router.add_get(PATH, self.collect)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, external_id: int, screen: Screen, *, key: str) -> None:
        """An outbox screen waits for the person's next GET."""
        self.later[external_id].append(screen)

    async def say(
        self, person: int, *, text: str = "", action: str = "", name: str = "", language: str = ""
    ) -> Shown:
        """Run what ``person`` wrote (``text``) or pressed (``action``) through the shop."""
        who: dict[str, Any] = {
            "account": AccountRef(self.channel, person),
            "display_name": name,
            "language_code": language or None,
        }
        if action:
            event = Event(kind=EventKind.ACTION, action=action, **who)
        elif text.startswith("/"):
            command, _, argument = text[1:].partition(" ")
            event = Event(kind=EventKind.COMMAND, command=command.lower(), text=argument, **who)
        else:
            event = Event(kind=EventKind.TEXT, text=text, **who)
        shown = Shown()

        async def show(reply: Reply) -> None:
            shown.screens = list(reply.screens)
            if not action and reply.toast:
                shown.screens.insert(0, Screen(reply.toast))

        async def answer_press(toast: str | None) -> None:
            shown.toast = toast

        await self.answering.answer(event, None, show, answer_press if action else None)
        return shown

    async def post(self, request: web.Request) -> web.Response:
        person = request.match_info["person"]
        if not person.isdigit() or len(person) > 15:
            return web.json_response({"error": "person must be a number"}, status=400)
        if (request.content_length or 0) > MAX_BODY:
            return web.json_response({"error": "too long"}, status=413)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "not JSON"}, status=400)
        fields = ("text", "action", "name", "language")
        if not isinstance(body, dict) or not all(isinstance(body.get(f, ""), str) for f in fields):
            return web.json_response({"error": "expected text or action strings"}, status=400)
        if not (body.get("text") or body.get("action")):
            return web.json_response({"error": "say something: text or action"}, status=400)
        shown = await self.say(int(person), **{f: body.get(f, "") for f in fields})
        return web.json_response(shown.as_json())

    async def collect(self, request: web.Request) -> web.Response:
        person = request.match_info["person"]
        if not person.isdigit() or len(person) > 15:
            return web.json_response({"error": "person must be a number"}, status=400)
        screens = self.later.pop(int(person), [])
        return web.json_response(Shown(screens).as_json())
