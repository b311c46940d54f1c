"""Turning VK group events (message_new, message_event) into the conversation's Events.

Buttons carry their action in a small JSON payload, ``{"a": "p:12"}``; VK's own Start button
sends ``{"command": "start"}``. Only private chats with people are answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from handlers.events import Event, EventKind
from shop.accounts import AccountRef, Channel
from shop.inbox import Arrival

CHAT_PEER_START = 2_000_000_000
START_WORDS = frozenset({"начать", "start", "старт"})
UPDATE_ID_LIMIT = 64
# client_info.lang_id -> language code (VK's numbering)
LANGUAGES = {0: "ru", 1: "uk", 2: "be", 3: "en", 4: "es", 5: "fi", 6: "de", 7: "it"}


@dataclass(frozen=True)
class ButtonPress:
    """A callback button press: answered with sendMessageEventAnswer, its message edited."""

    event_id: str
    user_id: int
    peer_id: int
    cmid: int | None  # conversation_message_id of the message the button was on


@dataclass(frozen=True)
class VkUpdate:
    """One group event the shop answers: the neutral Event and what rendering needs."""

    event: Event
    peer_id: int
    press: ButtonPress | None = None
    inline_ok: bool | None = None  # the client shows inline callback buttons (None: unknown)
    numbered: bool = False  # the client shows no inline keyboards: choices go by number


def action_payload(action: str) -> str:
    """The payload a button carries for ``action``."""
    return json.dumps({"a": action}, ensure_ascii=False, separators=(",", ":"))


def parse_payload(raw: object) -> dict[str, Any] | None:
    """A payload as VK gives it (a JSON string in messages, an object in message_event)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    return raw if isinstance(raw, dict) else None


def _person(user_id: object, peer_id: object) -> int | None:
    """The user id when this is a private chat with a person, else None."""
    if isinstance(user_id, int) and 0 < user_id < CHAT_PEER_START and peer_id == user_id:
        return user_id
    return None


def _update_id(raw: dict[str, Any], fallback: str) -> str:
    return str(raw.get("event_id") or fallback)[:UPDATE_ID_LIMIT]


@dataclass(frozen=True)
class Client:
    """What client_info says of the person's app (all unknown without it)."""

    language: str | None = None
    inline_ok: bool | None = None
    numbered: bool = False


def _client(obj: dict[str, Any]) -> Client:
    client = obj.get("client_info")
    if not isinstance(client, dict):
        return Client()
    actions = client.get("button_actions") or []
    inline = bool(client.get("inline_keyboard")) and bool(client.get("keyboard", True))
    return Client(
        LANGUAGES.get(client.get("lang_id")),  # type: ignore[arg-type]
        inline and "callback" in actions,
        numbered=not inline,
    )


def _command(text: str) -> tuple[str, str] | None:
    """``/catalog`` -> ("catalog", ""), ``/start p_12`` -> ("start", "p_12")."""
    head, _, argument = text.strip().partition(" ")
    name = head[1:].lower()
    if not head.startswith("/") or not name.isascii() or not name.isalnum():
        return None
    return name, argument.strip()


def message_update(raw: dict[str, Any]) -> VkUpdate | None:
    """message_new -> a command, text, button action (text button) or media Event."""
    obj = raw.get("object") or {}
    message = obj.get("message") or {}
    user_id = _person(message.get("from_id"), message.get("peer_id"))
    if user_id is None:
        return None
    client = _client(obj)
    base: dict[str, Any] = {
        "account": AccountRef(Channel.VK, user_id),
        "update_id": _update_id(raw, f"m{message.get('id')}"),
        "language_code": client.language,
    }
    text = message.get("text") or ""
    ref = str(message.get("ref") or "")  # vk.me/shop?ref=p_12: the link the person came by
    payload = parse_payload(message.get("payload")) or {}

    def event(kind: EventKind, **fields: Any) -> VkUpdate:
        return VkUpdate(
            Event(kind=kind, **base, **fields),
            user_id,
            inline_ok=client.inline_ok,
            numbered=client.numbered,
        )

    if payload.get("command") == "start":
        return event(EventKind.COMMAND, command="start", text=ref)
    if "a" in payload:
        action = payload["a"]
        return event(EventKind.ACTION, action=action if isinstance(action, str) else "")
    if text.strip().lower() in START_WORDS:
        return event(EventKind.COMMAND, command="start", text=ref)
    command = _command(text)
    if command is not None:
        return event(EventKind.COMMAND, command=command[0], text=command[1])
    if text.strip():
        return event(EventKind.TEXT, text=text)
    if message.get("attachments") or message.get("geo") or message.get("fwd_messages"):
        return event(EventKind.MEDIA)
    return None


def button_update(raw: dict[str, Any]) -> VkUpdate | None:
    """message_event (a callback button) -> an action Event; a forged payload gives ""."""
    obj = raw.get("object") or {}
    user_id = _person(obj.get("user_id"), obj.get("peer_id"))
    event_id = obj.get("event_id")
    if user_id is None or not isinstance(event_id, str):
        return None
    payload = parse_payload(obj.get("payload")) or {}
    action = payload.get("a")
    cmid = obj.get("conversation_message_id")
    event = Event(
        account=AccountRef(Channel.VK, user_id),
        kind=EventKind.ACTION,
        action=action if isinstance(action, str) else "",
        update_id=_update_id(raw, f"e{event_id}"),
    )
    press = ButtonPress(event_id, user_id, user_id, cmid if isinstance(cmid, int) else None)
    return VkUpdate(event, user_id, press=press)


def parse_update(raw: dict[str, Any], group_id: int) -> VkUpdate | None:
    """The update for a group event of ``group_id``; None for what the shop does not answer."""
    if raw.get("group_id") not in (None, group_id):
        return None
    if raw.get("type") == "message_new":
        return message_update(raw)
    if raw.get("type") == "message_event":
        return button_update(raw)
    return None


def consent_change(raw: dict[str, Any], group_id: int) -> tuple[int, bool] | None:
    """(user id, allowed) for message_allow / message_deny of ``group_id``, else None."""
    kind = raw.get("type")
    if kind not in ("message_allow", "message_deny") or raw.get("group_id") not in (
        None,
        group_id,
    ):
        return None
    user_id = _object(raw).get("user_id")
    if not isinstance(user_id, int) or not 0 < user_id < CHAT_PEER_START:
        return None
    return user_id, kind == "message_allow"


def _object(raw: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    """``raw["object"]`` (or its ``key`` member) when it is a JSON object, else {}."""
    obj = raw.get("object")
    if key is not None and isinstance(obj, dict):
        obj = obj.get(key)
    return obj if isinstance(obj, dict) else {}


def arrival(raw: dict[str, Any]) -> Arrival:
    """The inbox row for a group event: its event_id, in the lane of the person it is from."""
    obj, message = _object(raw), _object(raw, "message")
    sender = message.get("from_id") if message else obj.get("user_id") or obj.get("from_id")
    lane = f"vk:{sender}" if isinstance(sender, int) else "vk:-"
    fallback = f"{raw.get('type')}:{message.get('id') or obj.get('event_id') or obj.get('id')}"
    return Arrival("vk", _update_id(raw, fallback), lane, raw)
