"""Pushing updates to a bot's webhook, as Telegram does.

Each update is POSTed as JSON with the secret header; a non-2xx answer or a
connection error is retried with backoff. Updates of one chat go one at a
time and in order; different chats are delivered in parallel up to
max_connections. A webhook answer may itself carry a method call (aiogram's
"reply into webhook"), which is executed like any other call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import aiohttp

from .spec import Upload

if TYPE_CHECKING:
    from .state import BotState, UpdateRecord, World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
POST_TIMEOUT = 30.0


class WebhookDelivery:
    """The delivery workers of one bot's webhook."""

    def __init__(self, world: World, bot: BotState) -> None:
        self.world = world
        self.bot = bot
        self._queues: dict[int, deque[UpdateRecord]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(bot.webhook.max_connections if bot.webhook else 40)

    def push(self, record: UpdateRecord) -> None:
        key = record.chat_id or 0
        self._queues.setdefault(key, deque()).append(record)
        if key not in self._tasks:
            self._tasks[key] = asyncio.get_running_loop().create_task(self._run(key))

    def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self._queues.clear()

    async def _run(self, key: int) -> None:
        queue = self._queues[key]
        try:
            while queue:
                record = queue[0]
                if not (record.confirmed or record.dropped or self.bot.unwanted(record)):
                    await self._deliver(record)
                queue.popleft()
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
                self._queues.pop(key, None)

    async def _deliver(self, record: UpdateRecord) -> None:
        delays = self.world.config.webhook_retry_delays
        error = ""
        for attempt in range(len(delays) + 1):
            if attempt:
                await asyncio.sleep(delays[attempt - 1])
            record.attempts += 1
            error = await self._post(record)
            if not error:
                self.bot.confirm(record)
                return
            if self.bot.webhook is not None:
                self.bot.webhook.last_error_date = int(time.time())
                self.bot.webhook.last_error_message = error
        record.dropped = f"webhook delivery failed {record.attempts} times, last: {error}"
        if record in self.bot.queue:
            self.bot.queue.remove(record)
        self.bot.activity.wake()

    async def _post(self, record: UpdateRecord) -> str:
        """POST one update; the error text, or "" when the bot took it."""
        hook = self.bot.webhook
        http = self.world.http
        if hook is None or http is None:
            return "webhook removed"
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        async with self._slots:
            self.bot.activity.begin()
            try:
                async with http.post(
                    hook.url,
                    data=json.dumps(record.payload, ensure_ascii=False).encode(),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT),
                ) as resp:
                    if not 200 <= resp.status < 300:
                        return f"Wrong response from the webhook: {resp.status} {resp.reason}"
                    reply = await _read_reply(resp)
            except (aiohttp.ClientError, TimeoutError) as exc:
                return f"Connection failed: {type(exc).__name__}: {exc}"
            finally:
                self.bot.activity.end()
        if reply is not None:
            await self._execute(*reply)
        return ""

    async def _execute(
        self, method: str, params: dict[str, Any], uploads: dict[str, Upload]
    ) -> None:
        from .calls import call_method  # the call pipeline imports this module

        await call_method(self.world, self.bot, method, params, uploads, via="webhook-reply")


async def _read_reply(
    resp: aiohttp.ClientResponse,
) -> tuple[str, dict[str, Any], dict[str, Upload]] | None:
    """A method call carried in a webhook answer, if there is one."""
    params: dict[str, Any] = {}
    uploads: dict[str, Upload] = {}
    if resp.content_type == "application/json":
        with contextlib.suppress(ValueError):
            body = await resp.json(content_type=None)
            if isinstance(body, dict):
                params = body
    elif resp.content_type.startswith("multipart/"):
        reader = aiohttp.MultipartReader(resp.headers, resp.content)
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename:
                uploads[part.name] = Upload(part.name, part.filename, await part.read())
            else:
                params[part.name] = await part.text()
    method = params.pop("method", None)
    if not isinstance(method, str) or not method:
        return None
    return method, params, uploads
