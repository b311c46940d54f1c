"""A community's API settings as a bot changes them: Callback API servers and their
events, the confirmation string, Bots Long Poll on or off and its events.

Adding a server, or editing one, makes VK confirm it: VK posts `{"type": "confirmation"}`
to its URL and expects the community's string back (`VkEmulator` does that, then pushes
events there). VK sends a server, or the long poll, only the event types switched on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.emulators.vk import schema
from tests.emulators.vk.errors import VkError, param_error
from tests.emulators.vk.state import CallbackServer, Group

if TYPE_CHECKING:
    from tests.emulators.vk.methods import Call

SERVERS_LIMIT = 10
TITLE_LIMIT = 14
SECRET_LIMIT = 50
NOT_EVENTS = frozenset({"group_id", "server_id", "api_version", "enabled"})


def _own_group(call: Call) -> Group:
    if call.int("group_id") != call.group.id:
        raise VkError(15, "Access denied: this token belongs to another community")
    return call.group


def _events(call: Call, method: str) -> dict[str, bool]:
    """The event switches a settings call passes: {event: on}."""
    spec = schema.methods()[method]
    return {
        name: call.flag(name)
        for name in spec.params
        if name not in NOT_EVENTS and call.get(name) != ""
    }


def _server_fields(call: Call) -> tuple[str, str, str]:
    url, title, secret = call.get("url"), call.get("title"), call.get("secret_key")
    if not url.startswith(("http://", "https://")):
        raise param_error("url is invalid")
    if len(title) > TITLE_LIMIT:
        raise param_error(f"title is too long (at most {TITLE_LIMIT} characters)")
    if len(secret) > SECRET_LIMIT:
        raise param_error(f"secret_key is too long (at most {SECRET_LIMIT} characters)")
    return url, title, secret


class CommunitySettings:
    """The groups.* settings methods; ``confirm`` is called for a server VK must confirm."""

    def __init__(self, confirm: Callable[[Group, CallbackServer], None]) -> None:
        self.confirm = confirm
        self.table: dict[str, Callable[[Call], Any]] = {
            "groups.getCallbackConfirmationCode": self.get_confirmation_code,
            "groups.getCallbackServers": self.get_servers,
            "groups.addCallbackServer": self.add_server,
            "groups.editCallbackServer": self.edit_server,
            "groups.deleteCallbackServer": self.delete_server,
            "groups.setCallbackSettings": self.set_callback_settings,
            "groups.setLongPollSettings": self.set_long_poll_settings,
            "groups.getLongPollSettings": self.get_long_poll_settings,
        }

    def get_confirmation_code(self, call: Call) -> dict[str, str]:
        return {"code": _own_group(call).confirmation}

    def get_servers(self, call: Call) -> dict[str, Any]:
        group = _own_group(call)
        wanted = set(call.ints("server_ids"))
        servers = [s for s in group.callback_servers if not wanted or s.id in wanted]
        return {"count": len(servers), "items": [s.to_api() for s in servers]}

    def add_server(self, call: Call) -> dict[str, int]:
        group = _own_group(call)
        url, title, secret = _server_fields(call)
        if len(group.callback_servers) >= SERVERS_LIMIT:
            raise VkError(2000, "Servers number limit is reached")
        group.server_seq += 1
        server = CallbackServer(group.server_seq, title, url, secret)
        group.callback_servers.append(server)
        self.confirm(group, server)
        return {"server_id": server.id}

    def _server(self, call: Call) -> tuple[Group, CallbackServer]:
        group = _own_group(call)
        server = group.server(call.int("server_id"))
        if server is None:
            raise VkError(104, "Not found")
        return group, server

    def edit_server(self, call: Call) -> int:
        group, server = self._server(call)
        server.url, server.title, server.secret_key = _server_fields(call)
        server.status = "unconfigured"
        self.confirm(group, server)
        return 1

    def delete_server(self, call: Call) -> int:
        group, server = self._server(call)
        group.callback_servers.remove(server)
        return 1

    def set_callback_settings(self, call: Call) -> int:
        _, server = self._server(call)
        if call.get("api_version"):
            server.api_version = call.get("api_version")
        for name, on in _events(call, "groups.setCallbackSettings").items():
            (server.events.add if on else server.events.discard)(name)
        return 1

    def set_long_poll_settings(self, call: Call) -> int:
        group = _own_group(call)
        if call.get("enabled"):
            group.longpoll_enabled = call.flag("enabled")
        if call.get("api_version"):
            group.longpoll_api_version = call.get("api_version")
        events = group.longpoll_events if group.longpoll_events is not None else set()
        for name, on in _events(call, "groups.setLongPollSettings").items():
            (events.add if on else events.discard)(name)
        group.longpoll_events = events
        return 1

    def get_long_poll_settings(self, call: Call) -> dict[str, Any]:
        group = _own_group(call)
        names = schema.methods()["groups.setLongPollSettings"].params.keys() - NOT_EVENTS
        events = group.longpoll_events or set()
        answer: dict[str, Any] = {
            "is_enabled": group.longpoll_enabled,
            "events": {name: int(name in events) for name in sorted(names)},
        }
        if group.longpoll_api_version:
            answer["api_version"] = group.longpoll_api_version
        return answer
