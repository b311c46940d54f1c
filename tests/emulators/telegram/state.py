"""What the emulated Telegram knows: bots, people, chats, messages, files, updates.

Messages are kept in the Bot API's own JSON shape (what a bot receives), so
answering a call is handing the stored dict back; the views in ``views.py``
turn them into what a person sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ApiError, bad_request, forbidden
from .limits import RateLimiter, RateLimits
from .spec import Spec

if TYPE_CHECKING:
    import aiohttp

    from .faults import Fault
    from .webhook import WebhookDelivery


# Update kinds a bot only gets when it asks for them in allowed_updates.
_NOT_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}


@dataclass
class EmulatorConfig:
    """Timings and switches; the defaults are Telegram's, tests shorten them."""

    callback_timeout: float = 15.0
    precheckout_timeout: float = 10.0
    quiet_period: float = 0.05
    weak_quiet_period: float = 1.2
    """A bot answers a slow press within about a second and draws the screen later."""
    settle_timeout: float = 5.0
    # With many people at once, a message to another chat is someone else's answer:
    # then only a reaction in the update's own chat (or to its query) settles it.
    reactions_in_own_chat: bool = False
    webhook_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
    rate_limits: RateLimits = field(default_factory=RateLimits)


@dataclass
class UserState:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    phone: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data


@dataclass
class TopicState:
    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


@dataclass
class StoredMessage:
    """A message as the Bot API shows it, plus what only the emulator needs."""

    api: dict[str, Any]
    from_bot: bool
    reply_keyboard: dict[str, Any] | None = None
    invoice: dict[str, Any] | None = None

    @property
    def message_id(self) -> int:
        return int(self.api["message_id"])


@dataclass
class ChatState:
    id: int
    type: str  # private, group, supergroup
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    user: UserState | None = None  # the other party of a private chat
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    topics: dict[int, TopicState] = field(default_factory=dict)
    reply_keyboard: dict[str, Any] | None = None
    migrated_to: int | None = None
    started: bool = True  # private: the person has pressed Start
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_message_id(self) -> int:
        return next(self._ids)

    def to_api(self) -> dict[str, Any]:
        if self.type == "private":
            assert self.user is not None
            data = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
            return data
        data = {"id": self.id, "type": self.type, "title": self.title or ""}
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data

    def full_info(self) -> dict[str, Any]:
        data = self.to_api()
        data.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        if self.type != "private":
            data["permissions"] = {"can_send_messages": True}
        return data


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.data)


_FILE_PREFIX = {
    "photo": "AgACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
    "voice": "AwACAgIAAxkBAAI",
    "video": "BAACAgIAAxkBAAI",
    "animation": "CgACAgIAAxkBAAI",
    "audio": "CQACAgIAAxkBAAI",
    "video_note": "DQACAgIAAxkBAAI",
}
_FILE_EXT = {"photo": "jpg", "sticker": "webp", "voice": "oga", "video": "mp4", "audio": "mp3"}


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG; None if it is no image we know."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                break
            marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + length
        return (800, 600)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return (512, 512)
    if data.startswith(b"BM"):
        return (800, 600)
    return None


class FileStore:
    """A bot's files: file_id is per bot in Telegram, file_unique_id is global."""

    def __init__(self) -> None:
        self.by_id: dict[str, FileRecord] = {}
        self.by_path: dict[str, FileRecord] = {}
        self._n = itertools.count(1)

    def add(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> FileRecord:
        n = next(self._n)
        ext = _FILE_EXT.get(kind) or (
            file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else "bin"
        )
        width, height = image_size(data) or (0, 0)
        record = FileRecord(
            file_id=_FILE_PREFIX.get(kind, "BQACAgIAAxkBAAI") + secrets.token_urlsafe(40),
            file_unique_id="AQAD" + secrets.token_urlsafe(9),
            kind=kind,
            data=data,
            file_path=f"{kind}s/file_{n}.{ext}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.by_id[record.file_id] = record
        self.by_path[record.file_path] = record
        return record

    def get(self, file_id: str) -> FileRecord | None:
        return self.by_id.get(file_id)


class Activity:
    """When a bot last did something, and a wake-up for whoever waits on it.

    getUpdates long polls are not activity: a bot waiting for news is idle.
    """

    def __init__(self) -> None:
        self.inflight = 0
        self.last = time.monotonic()
        self._event = asyncio.Event()

    def begin(self) -> None:
        self.inflight += 1
        self.touch()

    def end(self) -> None:
        self.inflight -= 1
        self.touch()

    def touch(self) -> None:
        self.last = time.monotonic()
        self.wake()

    def wake(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Until the next call starts or ends, or an update is confirmed; at most ``seconds``."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(seconds, 0.0))


@dataclass
class UpdateRecord:
    """One update on its way to the bot and what became of it."""

    update_id: int
    kind: str
    payload: dict[str, Any]
    chat_id: int | None
    query_id: str | None
    call_index: int  # calls logged before it was sent; later ones may be the reaction
    confirmed: bool = False
    dropped: str | None = None  # why the bot will never see it
    attempts: int = 0


@dataclass
class CallbackRecord:
    id: str
    user_id: int
    created: float
    answered: bool = False
    chat_id: int | None = None


@dataclass
class CallbackAnswer:
    text: str | None
    show_alert: bool = False
    url: str | None = None


@dataclass
class PreCheckoutRecord:
    id: str
    user_id: int
    created: float
    expired: bool = False
    ok: bool | None = None
    error_message: str | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class WebhookState:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivery: WebhookDelivery | None = None


@dataclass
class CallRecord:
    """One API call as the bot made it, for assertions and diagnostics."""

    index: int
    token: str
    method: str
    params: dict[str, Any]
    via: str = "http"
    ok: bool = False
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    uploads: list[str] = field(default_factory=list)  # parameters that carried a new file
    chat_id: int | None = None
    query_id: str | None = None
    fault: bool = False  # answered by an injected fault (faults.py), not served
    at: float = field(default_factory=time.monotonic)  # when the call came in

    def __repr__(self) -> str:
        outcome = "ok" if self.ok else f"{self.error_code} {self.description}"
        shown = {k: v for k, v in self.params.items() if k != "reply_markup"}
        return f"#{self.index} {self.method}({shown}) -> {outcome}"


@dataclass
class PollWaiter:
    event: asyncio.Event = field(default_factory=asyncio.Event)
    terminated: bool = False


@dataclass
class BotState:
    token: str
    user: UserState
    files: FileStore = field(default_factory=FileStore)
    chats: dict[int, ChatState] = field(default_factory=dict)
    blocked_by: set[int] = field(default_factory=set)
    queue: list[UpdateRecord] = field(default_factory=list)  # not yet confirmed
    allowed_updates: list[str] | None = None
    webhook: WebhookState | None = None
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    callbacks: dict[str, CallbackRecord] = field(default_factory=dict)
    callback_answers: dict[int, CallbackAnswer] = field(default_factory=dict)
    pre_checkouts: dict[str, PreCheckoutRecord] = field(default_factory=dict)
    activity: Activity = field(default_factory=Activity)
    poller: PollWaiter | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    _update_ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(secrets.randbelow(10**6) + 10**8)
    )

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def receives(self, kind: str) -> bool:
        if not self.allowed_updates:
            return kind not in _NOT_BY_DEFAULT
        return kind in self.allowed_updates

    def unwanted(self, record: UpdateRecord) -> bool:
        """Drop an update the bot did not subscribe to, when it is handed out.

        Telegram says allowed_updates "doesn't affect updates created before
        the call"; filtering at hand-out is the lenient reading, so a bot
        that subscribes just after a test acted still gets the update.
        """
        if self.receives(record.kind):
            return False
        record.dropped = (
            f"the bot does not receive {record.kind!r} updates "
            f"(allowed_updates={self.allowed_updates})"
        )
        if record in self.queue:
            self.queue.remove(record)
        self.activity.wake()
        return True

    def confirm(self, record: UpdateRecord) -> None:
        """The bot has got this update; it leaves the queue."""
        record.confirmed = True
        if record in self.queue:
            self.queue.remove(record)
        self.activity.wake()

    def find_chat(self, chat_id: Any) -> ChatState:
        """The chat a ``chat_id`` parameter names (an id or @username)."""
        chat: ChatState | None = None
        if isinstance(chat_id, int):
            chat = self.chats.get(chat_id)
        elif isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            chat = next(
                (c for c in self.chats.values() if (c.username or "").lower() == name), None
            )
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat", migrate_to_chat_id=chat.migrated_to
            )
        return chat

    def writable_chat(self, chat_id: Any) -> ChatState:
        """A chat the bot may post in, refusing as Telegram does when it may not."""
        chat = self.find_chat(chat_id)
        if chat.type == "private":
            if chat.id in self.blocked_by:
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
        else:
            status = chat.members.get(self.user.id)
            if status in ("left", "kicked", None):
                kind = "supergroup" if chat.type == "supergroup" else "group"
                if status == "kicked":
                    raise forbidden(f"bot was kicked from the {kind} chat")
                raise forbidden(f"bot is not a member of the {kind} chat")
        return chat

    def message(self, chat: ChatState, message_id: int, missing: str) -> StoredMessage:
        stored = chat.messages.get(message_id)
        if stored is None:
            raise bad_request(missing)
        return stored


class World:
    """Everything the emulator holds, shared by the HTTP side and the people."""

    def __init__(self, config: EmulatorConfig, spec: Spec) -> None:
        self.config = config
        self.spec = spec
        self.limiter = RateLimiter(config.rate_limits)
        self.bots: dict[str, BotState] = {}
        self.users: dict[int, UserState] = {}
        self.calls: list[CallRecord] = []
        self.spec_warnings: list[str] = []
        self.result_problems: list[str] = []
        self.faults: list[Fault] = []
        self.revoked: set[str] = set()
        """Tokens answered 401 Unauthorized (revoked in @BotFather) until restored."""
        self.http: aiohttp.ClientSession | None = None
        self.stopping = False
        self._user_ids = itertools.count(5_000_001)
        self._bot_ids = itertools.count(7_000_000_001)
        self._group_ids = itertools.count(1)

    def new_user_id(self) -> int:
        return next(self._user_ids)

    def new_bot_id(self) -> int:
        return next(self._bot_ids)

    def new_group_id(self, supergroup: bool) -> int:
        n = next(self._group_ids)
        return -(1_001_000_000_000 + n) if supergroup else -(4_000_000_000 + n)

    def bot(self, token: str) -> BotState:
        try:
            return self.bots[token]
        except KeyError:
            raise ApiError(401, "Unauthorized") from None
