"""What /healthz reports: each configured front-end, the database, the inbox and outbox.

Front-ends report their calls here (`component(name).succeeded()` / `.failed(error)`; the
Telegram client through a request middleware, `watch_telegram`). A front-end is down when
its platform refused the credentials since the last success, or when it polls and no poll
has succeeded for a while; the process is unhealthy (503) when a configured part is down.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot import logs

if TYPE_CHECKING:
    from aiogram import Bot

STALE_POLL_SECONDS = 120.0
"""A long poll answers within ~25 s: none succeeding for this long means polling is stuck."""
VK_AUTH_ERRORS = frozenset({5, 27, 28})
"""VK: user authorization failed, group authorization failed, application authorization failed."""


def refuses_credentials(error: BaseException) -> bool:
    """The platform said the token is wrong (not a passing fault)."""
    if type(error).__name__ == "TelegramUnauthorizedError":
        return True
    return type(error).__name__ == "ApiError" and getattr(error, "code", None) in VK_AUTH_ERRORS


def _iso(stamp: float | None) -> str | None:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds") if stamp else None


@dataclass
class Liveness:
    """The recent calls of one front-end (written from the loop and from VK's poll thread)."""

    name: str
    polling: bool = False
    started: float = field(default_factory=time.time)
    last_ok: float | None = None
    last_poll_ok: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    refused: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def succeeded(self, poll: bool = False) -> None:
        with self._lock:
            self.last_ok = time.time()
            if poll:
                self.last_poll_ok = self.last_ok
            self.refused = False

    def failed(self, error: BaseException | str) -> None:
        with self._lock:
            self.last_error = logs.redact(error if isinstance(error, str) else _describe(error))
            self.last_error_at = time.time()
            if isinstance(error, BaseException) and refuses_credentials(error):
                self.refused = True

    def problem(self, now: float | None = None) -> str | None:
        """Why this front-end is down, or None when it works."""
        now = now or time.time()
        if self.refused:
            return "the token was refused"
        if self.polling:
            since = self.last_poll_ok or self.started
            if now - since > STALE_POLL_SECONDS:
                return f"no poll succeeded for {now - since:.0f} s"
        return None

    def report(self) -> dict[str, Any]:
        problem = self.problem()
        return {
            "status": "down" if problem else "ok",
            "mode": "polling" if self.polling else "webhook",
            "problem": problem,
            "last_ok": _iso(self.last_ok),
            "last_error": self.last_error,
            "last_error_at": _iso(self.last_error_at),
        }


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:300] if text else type(error).__name__


class Health:
    """The front-ends of one running process (replaced when a new web app is made)."""

    def __init__(self) -> None:
        self.parts: dict[str, Liveness] = {}

    def component(self, name: str, *, polling: bool | None = None) -> Liveness:
        part = self.parts.get(name)
        if part is None:
            part = self.parts[name] = Liveness(name)
        if polling is not None:
            part.polling = polling
        return part


_current = Health()


def reset() -> Health:
    """A fresh record for a new process (a new web app; tests start several in turn)."""
    global _current
    _current = Health()
    return _current


def current() -> Health:
    return _current


def component(name: str, *, polling: bool | None = None) -> Liveness:
    """The liveness record of front-end ``name`` (made on first use: it is configured)."""
    return _current.component(name, polling=polling)


async def report(engine: AsyncEngine) -> tuple[bool, dict[str, Any]]:
    """(healthy, the JSON body of /healthz)."""
    from bot.metrics import queue_depths

    body: dict[str, Any] = {}
    healthy = True
    try:
        async with engine.connect() as connection:
            inbox, outbox = await queue_depths(connection)
        body["database"] = {"status": "ok"}
        body["inbox"] = {"backlog": inbox}
        body["outbox"] = {"backlog": outbox}
    except Exception as error:  # any database failure means "not healthy"
        healthy = False
        body["database"] = {"status": "down", "error": logs.redact(_describe(error))}
    from bot.budget import sending

    body["sending"] = "here" if sending() else "standby (another process sends)"
    for name, part in sorted(current().parts.items()):
        body[name] = part.report()
        healthy = healthy and body[name]["status"] == "ok"
    return healthy, {"status": "ok" if healthy else "unavailable", **body}


def watch_telegram(bot: Bot) -> None:
    """Record every Bot API call's outcome as the Telegram front-end's liveness."""
    from aiogram.client.session.middlewares.base import BaseRequestMiddleware
    from aiogram.methods import GetUpdates

    component("telegram")  # configured: reported from now on

    class LivenessMiddleware(BaseRequestMiddleware):
        async def __call__(self, make_request, bot, method):  # type: ignore[no-untyped-def]
            part = component("telegram")  # looked up each time: the current process's record
            polling = isinstance(method, GetUpdates)
            if polling:
                part.polling = True
            try:
                result = await make_request(bot, method)
            except Exception as error:
                part.failed(error)
                raise
            part.succeeded(poll=polling)
            return result

    bot.session.middleware(LivenessMiddleware())  # inside the retries: sees every try
