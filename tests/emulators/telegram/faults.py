"""Faults a test injects: the next calls of a method meet a bad moment of Telegram.

A fault answers before the call is served, so nothing it asked for happens: a JSON error
with an HTTP status (500, or 429 with ``retry_after``), an HTML page such as a proxy's 502,
or a connection closed without any answer. The call is logged with ``fault`` set, and it
does not count as the bot's reaction when the driver waits for one (the retry does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .state import BotState, CallRecord, World

BAD_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass
class Fault:
    method: str
    status: int = 500
    html: bool = False
    drop: bool = False
    retry_after: int | None = None
    chat_id: int | None = None
    token: str | None = None
    left: int = 1

    def matches(self, bot: BotState, method: str, params: dict[str, Any]) -> bool:
        if self.left <= 0 or method != self.method:
            return False
        if self.token is not None and bot.token != self.token:
            return False
        return self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id)

    def describe(self) -> str:
        if self.drop:
            return "connection dropped"
        if self.html:
            return f"HTML page with status {self.status}"
        return f"status {self.status}"


def take(world: World, bot: BotState, method: str, params: dict[str, Any]) -> Fault | None:
    """The first armed fault for this call, used up by one."""
    for fault in world.faults:
        if fault.matches(bot, method, params):
            fault.left -= 1
            world.faults = [f for f in world.faults if f.left > 0]
            return fault
    return None


async def answer(
    request: web.Request, world: World, bot: BotState, method: str, params: dict[str, Any]
) -> web.StreamResponse | None:
    """Answer the call with its fault, if one is armed; None lets it be served."""
    fault = take(world, bot, method, params)
    if fault is None:
        return None
    record = CallRecord(
        index=len(world.calls), token=bot.token, method=method, params=params, fault=True
    )
    record.description = f"injected fault: {fault.describe()}"
    chat_id = params.get("chat_id")
    if isinstance(chat_id, int) or (isinstance(chat_id, str) and chat_id.lstrip("-").isdigit()):
        record.chat_id = int(chat_id)
    world.calls.append(record)
    bot.activity.touch()
    if fault.drop:
        assert request.transport is not None
        request.transport.close()
        return web.Response()  # written to a closed transport: never seen
    record.error_code = fault.status
    if fault.html:
        return web.Response(status=fault.status, text=BAD_GATEWAY_PAGE, content_type="text/html")
    body: dict[str, Any] = {"ok": False, "error_code": fault.status}
    if fault.retry_after is not None:
        body["description"] = f"Too Many Requests: retry after {fault.retry_after}"
        body["parameters"] = {"retry_after": fault.retry_after}
    else:
        body["description"] = "Internal Server Error"
    return web.json_response(body, status=fault.status)
