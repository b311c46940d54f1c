"""Callback API: VK pushing a community's events to the bot's HTTPS endpoint.

VK first sends `{"type": "confirmation", "group_id"}` and expects the community's
confirmation string as the body. Then each event is POSTed as
`{"type", "object", "group_id", "event_id", "v", "secret"}`; an answer other than
HTTP 200 with body "ok" is retried (the same event_id) a few times.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.emulators.vk.state import CallbackServer, Inbound, now


@dataclass(frozen=True)
class PushAttempt:
    """One POST to the bot: what was sent and what came back."""

    event_id: str
    type: str
    attempt: int
    status: int | None
    body: str


class CallbackPusher:
    """Pushes one community's events to one URL, in order, with retries."""

    def __init__(
        self,
        group_id: int,
        url: str,
        secret: str = "",
        *,
        retries: int = 3,
        backoff: float = 0.05,
        server: CallbackServer | None = None,
    ) -> None:
        self.server = server  # a server the bot registered: only its events are sent
        self.group_id = group_id
        self.url = url
        self.secret = secret
        self.retries = retries
        self.backoff = backoff
        self.log: list[PushAttempt] = []
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def _post(self, body: dict[str, Any]) -> tuple[int | None, str]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with self._session.post(self.url, json=body) as response:
                return response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}"

    async def confirm(self, expected: str) -> str:
        """Send the confirmation request; the answer must be the community's string."""
        status, text = await self._post({"type": "confirmation", "group_id": self.group_id})
        self.log.append(PushAttempt("", "confirmation", 1, status, text))
        if status != 200 or text.strip() != expected:
            raise AssertionError(
                f"Callback API confirmation failed: expected {expected!r}, "
                f"got HTTP {status} {text[:200]!r}"
            )
        return text

    def sends(self, kind: str) -> bool:
        """Whether VK sends events of this type here (switched on for the server)."""
        return self.server is None or kind in self.server.events

    async def push(self, inbound: Inbound) -> None:
        """Deliver one event; mark it delivered on "ok", failed after the last retry."""
        body = dict(inbound.update)
        if self.secret:
            body["secret"] = self.secret
        async with self._lock:
            for attempt in range(1, self.retries + 2):
                status, text = await self._post(body)
                self.log.append(PushAttempt(inbound.event_id, inbound.type, attempt, status, text))
                if status == 200 and text == "ok":
                    inbound.delivered_at = now()
                    return
                if attempt <= self.retries:
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            inbound.failed = f"no 'ok' after {self.retries + 1} attempts: HTTP {status} {text!r}"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
