"""Setting the community up for the bot at start, so the owner only gives a token, the
community id and (for the Callback API) a secret.

Callback API: the confirmation string is fetched (unless VK_CALLBACK_CONFIRMATION gives it),
the server at PUBLIC_BASE_URL is added (or the one already there brought up to date, which
makes VK confirm it again) and told which events to send. Long Poll: switched on with the
same events. Every call goes through `bot.vk.calls.call` (a thread, retried through faults);
what VK refuses becomes a one-line `StartupError` naming what to fix.
"""

from __future__ import annotations

import logging
from typing import Any

import vk_api

from bot.startup import StartupError
from bot.vk.calls import call, describe, error_code
from bot.vk_session import VK_API_VERSION

log = logging.getLogger(__name__)

SERVER_TITLE = "Shop bot"  # VK keeps a server title within 14 characters
EVENTS = {
    "message_new": 1,
    "message_event": 1,
    "message_allow": 1,
    "message_deny": 1,
    "message_reply": 0,  # the bot's own messages: nothing to answer
    "message_edit": 0,
    "message_typing_state": 0,
}
"""The group events the bot takes (1) and those it asks VK not to send (0)."""
ACCESS_DENIED, NO_RIGHTS, SERVERS_LIMIT = 15, 27, 2000
BAD_TOKEN = 5


async def confirmation_code(vk: vk_api.VkApi, group_id: int) -> str:
    """The string VK expects back when it confirms the Callback API server."""
    answer = await call(vk, "groups.getCallbackConfirmationCode", group_id=group_id)
    return str(answer["code"])


async def register_callback_server(vk: vk_api.VkApi, group_id: int, url: str, secret: str) -> int:
    """The id of the community's Callback API server at ``url``, added or brought up to
    date (VK then sends its confirmation request), with the bot's events switched on."""
    known = await _server_at(vk, group_id, url)
    wanted = {"url": url, "title": SERVER_TITLE, "secret_key": secret}
    if known is None:
        added = await call(vk, "groups.addCallbackServer", group_id=group_id, **wanted)
        server_id = await _one_server(vk, group_id, url, int(added["server_id"]))
        log.info("VK: Callback API server %s added for %s", server_id, url)
    else:
        server_id = int(known["id"])
        stale = known.get("secret_key") != secret or known.get("status") != "ok"
        if stale:
            await call(
                vk, "groups.editCallbackServer", group_id=group_id, server_id=server_id, **wanted
            )
            log.info("VK: Callback API server %s updated (was %s)", server_id, known.get("status"))
    await call(
        vk,
        "groups.setCallbackSettings",
        group_id=group_id,
        server_id=server_id,
        api_version=VK_API_VERSION,
        **EVENTS,
    )
    return server_id


async def _server_at(vk: vk_api.VkApi, group_id: int, url: str) -> dict[str, Any] | None:
    """The community's first server at ``url`` (the oldest: ids only grow), if any."""
    answer = await call(vk, "groups.getCallbackServers", group_id=group_id)
    servers = [s for s in answer.get("items", []) if s.get("url") == url]
    return min(servers, key=lambda s: int(s["id"])) if servers else None


async def _one_server(vk: vk_api.VkApi, group_id: int, url: str, added: int) -> int:
    """Several workers starting at once may each add a server for ``url``: every one
    keeps the oldest and takes its own away, so VK sends each event once."""
    oldest = await _server_at(vk, group_id, url)
    if oldest is None or int(oldest["id"]) == added:
        return added
    await call(vk, "groups.deleteCallbackServer", group_id=group_id, server_id=added)
    return int(oldest["id"])


async def enable_long_poll(vk: vk_api.VkApi, group_id: int) -> None:
    """Switch the community's Bots Long Poll on, with the bot's API version and events."""
    await call(
        vk,
        "groups.setLongPollSettings",
        group_id=group_id,
        enabled=1,
        api_version=VK_API_VERSION,
        **EVENTS,
    )


def setup_problem(error: BaseException, what: str) -> StartupError:
    """What VK refused while setting ``what`` up, as one line naming what to fix."""
    code = error_code(error)
    if code in (ACCESS_DENIED, NO_RIGHTS, BAD_TOKEN):
        return StartupError(
            f"VK_GROUP_TOKEN: the token may not manage the community ({describe(error)}, "
            f"setting up the {what}); create one with the management right in Manage → "
            "API usage"
        )
    if code == SERVERS_LIMIT:
        return StartupError(
            "PUBLIC_BASE_URL: the community has as many Callback API servers as VK allows; "
            "delete an unused one in Manage → API usage → Callback API"
        )
    if isinstance(error, vk_api.ApiError):
        return StartupError(
            f"VK_GROUP_ID/PUBLIC_BASE_URL: VK refused the {what} ({describe(error)})"
        )
    return StartupError(f"VK_API_URL: could not set up the {what} ({describe(error)})", 1)
