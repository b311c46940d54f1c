"""What the emulated VK knows: communities, people, conversations, media and the call log.

Tests read this to assert on what a person sees (the conversation with edits applied
and deleted messages gone) and on what the bot asked of the API.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from tests.emulators.vk.keyboards import Keyboard

CHAT_PEER_START = 2_000_000_000


@dataclass
class CallbackServer:
    """A Callback API server of a community, as groups.getCallbackServers lists it."""

    id: int
    title: str
    url: str
    secret_key: str
    creator_id: int = 0
    status: str = "unconfigured"  # then "wait" while VK confirms it, "ok" or "failed"
    api_version: str = ""
    events: set[str] = field(default_factory=set)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "creator_id": self.creator_id,
            "url": self.url,
            "secret_key": self.secret_key,
            "status": self.status,
        }


@dataclass
class Group:
    """A community with its token and the Callback API confirmation string VK shows.

    ``longpoll_events`` None: the Long Poll settings were never set through the API, and
    every event is delivered (a community set up by hand in a test)."""

    id: int
    name: str
    screen_name: str
    token: str
    confirmation: str
    message_seq: int = 0  # ids in the community's mailbox
    longpoll_enabled: bool = True
    longpoll_api_version: str = ""
    longpoll_events: set[str] | None = None
    callback_servers: list[CallbackServer] = field(default_factory=list)
    server_seq: int = 0

    def next_message_id(self) -> int:
        self.message_seq += 1
        return self.message_seq

    def server(self, server_id: int | None) -> CallbackServer | None:
        return next((s for s in self.callback_servers if s.id == server_id), None)


@dataclass
class User:
    """A VK user who writes to communities."""

    id: int
    first_name: str
    last_name: str = ""
    lang: str = "ru"
    screen_name: str = ""
    allows_messages: bool = True
    inline_keyboard: bool = True  # client_info: the app shows inline keyboards
    keyboard: bool = True  # client_info: the app shows keyboards at all


LANG_IDS = {"ru": 0, "uk": 1, "be": 2, "en": 3, "es": 4, "fi": 5, "de": 6, "it": 7}


@dataclass
class Attachment:
    """A photo or document, as issued by an upload or sent by a person."""

    type: str  # "photo" or "doc"
    owner_id: int
    id: int
    access_key: str
    data: bytes
    filename: str
    url: str
    date: int
    title: str = ""

    def __str__(self) -> str:
        return f"{self.type}{self.owner_id}_{self.id}_{self.access_key}"

    @property
    def ext(self) -> str:
        return self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else ""

    def to_api(self) -> dict[str, Any]:
        """The object VK puts in `attachments` and returns from the save methods."""
        if self.type == "photo":
            body: dict[str, Any] = {
                "album_id": -3,
                "date": self.date,
                "id": self.id,
                "owner_id": self.owner_id,
                "access_key": self.access_key,
                "has_tags": False,
                "text": "",
                "sizes": [{"type": "x", "url": self.url, "width": 604, "height": 604}],
            }
        else:
            body = {
                "id": self.id,
                "owner_id": self.owner_id,
                "title": self.title or self.filename,
                "size": len(self.data),
                "ext": self.ext,
                "url": self.url,
                "date": self.date,
                "type": 1 if self.ext in {"txt", "csv", "pdf", "doc", "docx"} else 8,
                "access_key": self.access_key,
            }
        return {"type": self.type, self.type: body}


@dataclass
class Message:
    """One message in a conversation between a person and a community."""

    id: int
    cmid: int
    peer_id: int
    from_id: int
    text: str
    date: int
    out: bool  # sent by the community
    keyboard: Keyboard | None = None
    attachments: list[Attachment] = field(default_factory=list)
    payload: str | None = None
    random_id: int = 0
    update_time: int | None = None
    deleted: bool = False  # for everybody: the person no longer sees it
    deleted_for_group: bool = False

    @property
    def buttons(self) -> list[list[str]]:
        return self.keyboard.labels if self.keyboard else []

    def to_api(self) -> dict[str, Any]:
        """The `message` object of a message_new event."""
        body: dict[str, Any] = {
            "date": self.date,
            "from_id": self.from_id,
            "id": self.id,
            "out": int(self.out),
            "version": self.update_time or self.date,
            "attachments": [a.to_api() for a in self.attachments],
            "conversation_message_id": self.cmid,
            "fwd_messages": [],
            "important": False,
            "is_hidden": False,
            "peer_id": self.peer_id,
            "random_id": self.random_id,
            "text": self.text,
        }
        if self.payload is not None:
            body["payload"] = self.payload
        return body


@dataclass
class Conversation:
    """A person's private chat with a community, as the person sees it."""

    group_id: int
    peer_id: int
    messages: list[Message] = field(default_factory=list)
    keyboard: Keyboard | None = None  # the standard keyboard under the input field
    cmid_seq: int = 0

    def next_cmid(self) -> int:
        self.cmid_seq += 1
        return self.cmid_seq

    def visible(self) -> list[Message]:
        return [m for m in self.messages if not m.deleted]

    def find(self, *, message_id: int | None = None, cmid: int | None = None) -> Message | None:
        for message in self.messages:
            if message_id is not None and message.id == message_id:
                return message
            if cmid is not None and message.cmid == cmid:
                return message
        return None


@dataclass
class CallRecord:
    """One API request the bot made, with the answer it got."""

    seq: int
    method: str
    params: dict[str, str]
    group_id: int | None
    started: float
    finished: float | None = None
    response: Any = None
    error: tuple[int, str] | None = None
    fault: bool = False  # answered by an injected fault, not served

    @property
    def ok(self) -> bool:
        return self.finished is not None and self.error is None

    def peers(self) -> set[int]:
        """The conversations this call touches."""
        found: set[int] = set()
        for key in ("peer_id", "user_id"):
            value = self.params.get(key, "")
            if value.lstrip("-").isdigit():
                found.add(int(value))
        for value in self.params.get("peer_ids", "").split(","):
            if value.strip().lstrip("-").isdigit():
                found.add(int(value))
        if self.method == "messages.delete" and isinstance(self.response, list):
            found.update(item["peer_id"] for item in self.response)
        return found

    def __str__(self) -> str:
        shown = {k: (v if len(v) <= 80 else v[:77] + "...") for k, v in self.params.items()}
        outcome = f"error {self.error[0]}: {self.error[1]}" if self.error else "ok"
        if self.finished is None:
            outcome = "in flight"
        return f"#{self.seq} {self.method} {shown} -> {outcome}"


@dataclass
class Inbound:
    """An event the emulator gives the bot, followed until the bot has taken it."""

    seq: int
    group_id: int
    peer_id: int
    type: str
    event_id: str
    update: dict[str, Any]
    delivered_at: float | None = None  # fetched by long poll, or the push answered "ok"
    failed: str | None = None  # the callback push gave up
    answer_id: str | None = None  # object.event_id of a message_event
    answered: bool = False  # the message_event was answered by sendMessageEventAnswer


class World:
    """Everything the emulated VK holds, shared by the API methods and the driver."""

    def __init__(self) -> None:
        self.groups: dict[int, Group] = {}
        self.tokens: dict[str, Group] = {}
        self.users: dict[int, User] = {}
        self.conversations: dict[tuple[int, int], Conversation] = {}
        self.calls: list[CallRecord] = []
        self.warnings: list[str] = []
        self.inbound: list[Inbound] = []
        # (group, peer, random_id) -> (message id, unixtime): VK's de-duplication
        self.random_ids: dict[tuple[int, int, int], tuple[int, float]] = {}
        self.sent_times: dict[tuple[int, int], list[float]] = {}
        self.faults: dict[str, list[int]] = {}
        # method -> faults for its next calls: an HTTP status, "drop" or "lose" (server.py)
        self.http_faults: dict[str, list[int | str]] = {}
        self.flood_limit: int | None = None  # messages.send per peer per flood_window
        self.flood_window = 60.0
        self.time_offset = 0.0
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def unixtime(self) -> float:
        """VK's clock, which a test may move forward (`advance_time`)."""
        return time.time() + self.time_offset

    def conversation(self, group_id: int, peer_id: int) -> Conversation:
        key = (group_id, peer_id)
        if key not in self.conversations:
            self.conversations[key] = Conversation(group_id, peer_id)
        return self.conversations[key]


def new_token() -> str:
    return "vk1.a." + secrets.token_urlsafe(60)


def new_key() -> str:
    return secrets.token_hex(20)


def now() -> float:
    """Monotonic time for activity and delivery marks (not VK dates)."""
    return time.monotonic()
