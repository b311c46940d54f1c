"""People for end-to-end tests: they send, press, pay and read, like a person would.

    emu = TelegramEmulator(); await emu.start()  # or: async with running_telegram_emulator()
    token = emu.create_bot(username="shop_bot")
    alice = emu.user(token, first_name="Alice", language_code="ru")
    await alice.send("/start")
    await alice.press("Каталог")             # an inline button of the last keyboard
    assert "Каталог" in alice.screen.text    # the bot's last message, as it looks now
    group = emu.group(token, title="Moderators", forum=True)
    staff = emu.user(token, first_name="Staff")
    await staff.send_in(group, "text", thread_id=None, reply_to=None)

Settling. Every action returns only after the bot's reaction has settled
(details in ``settle.py``):

(a) the bot got the update: a later getUpdates confirmed it (offset >
    update_id), or its webhook answered the POST with 2xx;
(b) it made at least one call reacting to it: a send/edit/delete/... in that
    chat, an answer to that callback or pre-checkout query, or a new message
    to any chat. ``expect_reply=False`` skips (b);
(c) no call of the bot is in flight and none started or ended for a quiet
    period (0.05 s; 0.3 s when the only reaction so far is
    answerCallbackQuery, which handlers often send before the real work).

If that does not happen within 5 s, an AssertionError says which part failed
and lists the bot's recent calls. No test needs a sleep. For what the bot
sends later on its own (an outbox, a timer), ``await alice.wait_for("text")``
waits until such a message is in her chat, and ``await emu.settle(token)``
waits for (c) alone.
"""

from __future__ import annotations

import copy
import secrets
import struct
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .messages import media_object, now
from .settle import recent_calls, settle_bot, settle_update
from .state import BotState, CallbackRecord, ChatState, PreCheckoutRecord, StoredMessage, UserState
from .updates import enqueue
from .views import Button, MessageView, TopicView, chat_messages

if TYPE_CHECKING:
    from .emulator import TelegramEmulator


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG (grey), so a photo a person sends is a real image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@dataclass(frozen=True)
class PaymentResult:
    """How a payment went: the bot's pre-checkout answer and what followed."""

    ok: bool
    error_message: str | None = None
    timed_out: bool = False
    message: MessageView | None = None  # the successful_payment message


MessageRef = MessageView | int | None


def _pick(items: list[dict[str, Any]], text: str, what: str, listing: str) -> dict[str, Any]:
    """Exact text, else a unique substring; a clear AssertionError otherwise."""
    exact = [item for item in items if item.get("text") == text]
    if exact:
        return exact[0]
    partial = [item for item in items if text in item.get("text", "")]
    if len(partial) == 1:
        return partial[0]
    found = "several" if partial else "no"
    raise AssertionError(f"{found} {what} matching {text!r}; there are:\n{listing}")


class Person:
    """A simulated Telegram user talking to one bot."""

    def __init__(self, emu: TelegramEmulator, bot: BotState, user: UserState) -> None:
        self._emu = emu
        self._bot = bot
        self.user = user

    def __repr__(self) -> str:
        return f"<Person {self.user.first_name} id={self.user.id}>"

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def first_name(self) -> str:
        return self.user.first_name

    @property
    def chat_id(self) -> int:
        return self.user.id

    @property
    def chat(self) -> ChatState:
        return self._bot.chats[self.user.id]

    # -- what she sees ----------------------------------------------------------------

    @property
    def messages(self) -> list[MessageView]:
        """Every message in her private chat with the bot, oldest first."""
        return chat_messages(self.chat)

    @property
    def bot_messages(self) -> list[MessageView]:
        return [m for m in self.messages if m.from_bot]

    @property
    def screen(self) -> MessageView:
        """The bot's last message in her chat, as it looks now."""
        shown = self.bot_messages
        if not shown:
            raise AssertionError(f"{self.user.first_name} has no message from the bot yet")
        return shown[-1]

    @property
    def last_answer(self) -> str | None:
        """The toast text of the bot's answer to her last button press."""
        answer = self._bot.callback_answers.get(self.user.id)
        return answer.text if answer else None

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        markup = self.chat.reply_keyboard
        return [[b.get("text", "") for b in row] for row in markup["keyboard"]] if markup else None

    @property
    def blocked(self) -> bool:
        return self.user.id in self._bot.blocked_by

    async def wait_for(self, text: str, *, within: float | None = None) -> MessageView:
        """A bot message containing ``text`` in her chat, waiting for it if not there yet.

        For what the bot sends on its own time (an outbox, a payment webhook);
        an older message with the text counts too.
        """
        return await wait_for_message(self._emu, self._bot, self.chat, text, within)

    # -- what she does ----------------------------------------------------------------

    async def send(
        self,
        text: str,
        *,
        reply_to: MessageRef = None,
        expect_reply: bool = True,
        settle: bool = True,
    ) -> MessageView:
        """Type a message (a command if it starts with /) in her chat with the bot;
        ``settle=False`` returns at once (a crowd in a benchmark, where nothing is quiet)."""
        return await self._post(
            self.chat,
            _text_content(text),
            reply_to=reply_to,
            expect_reply=expect_reply,
            settle=settle,
        )

    async def send_in(
        self,
        group: Group,
        text: str,
        *,
        thread_id: int | None = None,
        reply_to: MessageRef = None,
        expect_reply: bool = True,
    ) -> MessageView:
        """Write in a group (joining it if needed), optionally in a forum topic."""
        return await self._post(
            group.chat,
            _text_content(text),
            thread_id=thread_id,
            reply_to=reply_to,
            expect_reply=expect_reply,
        )

    async def share_contact(
        self, phone: str | None = None, *, expect_reply: bool = True
    ) -> MessageView:
        """Share her own contact (what a request_contact button sends)."""
        if phone is not None:
            self.user.phone = phone
        contact = {
            "phone_number": self.user.phone,
            "first_name": self.user.first_name,
            "user_id": self.user.id,
        }
        if self.user.last_name:
            contact["last_name"] = self.user.last_name
        return await self._post(self.chat, {"contact": contact}, expect_reply=expect_reply)

    async def send_sticker(self, emoji: str = "👍", *, expect_reply: bool = True) -> MessageView:
        record = self._bot.files.add(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker")
        sticker = {**media_object(record, "sticker"), "emoji": emoji}
        return await self._post(self.chat, {"sticker": sticker}, expect_reply=expect_reply)

    async def send_voice(self, *, duration: int = 3, expect_reply: bool = True) -> MessageView:
        record = self._bot.files.add(
            b"OggS\x00" + secrets.token_bytes(64), "voice", mime_type="audio/ogg"
        )
        voice = {**media_object(record, "voice"), "duration": duration}
        return await self._post(self.chat, {"voice": voice}, expect_reply=expect_reply)

    async def send_photo(
        self,
        data: bytes | None = None,
        *,
        caption: str | None = None,
        group: Group | None = None,
        thread_id: int | None = None,
        expect_reply: bool = True,
    ) -> MessageView:
        record = self._bot.files.add(data or tiny_png(), "photo")
        content: dict[str, Any] = {"photo": media_object(record, "photo")}
        if caption:
            content["caption"] = caption
        chat = group.chat if group else self.chat
        return await self._post(chat, content, thread_id=thread_id, expect_reply=expect_reply)

    async def send_document(
        self,
        data: bytes,
        filename: str = "file.bin",
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        group: Group | None = None,
        thread_id: int | None = None,
        expect_reply: bool = True,
    ) -> MessageView:
        record = self._bot.files.add(data, "document", file_name=filename, mime_type=mime_type)
        content: dict[str, Any] = {"document": media_object(record, "document")}
        if caption:
            content["caption"] = caption
        chat = group.chat if group else self.chat
        return await self._post(chat, content, thread_id=thread_id, expect_reply=expect_reply)

    async def press(
        self,
        text: str,
        *,
        message: MessageRef = None,
        in_: MessageRef = None,
        group: Group | None = None,
        expect_reply: bool = True,
        settle: bool = True,
    ) -> Button:
        """Press an inline button by its text on the last bot message with a keyboard.

        ``message``/``in_`` picks another message (a MessageView also names its
        chat), ``group`` looks in a group chat. A URL button is only "opened"
        (nothing is sent, its URL is in the returned Button); a pay button pays.
        """
        ref = message if message is not None else in_
        if group is not None:
            chat = group.chat
        elif isinstance(ref, MessageView):
            chat = self._bot.chats[ref.chat_id]
        else:
            chat = self.chat
        stored = self._keyboard_message(chat, ref)
        rows = stored.api["reply_markup"]["inline_keyboard"]
        listing = "\n".join("    " + " | ".join(b.get("text", "") for b in row) for row in rows)
        raw = _pick([b for row in rows for b in row], text, "button", listing)
        button = Button(raw.get("text", ""), raw.get("callback_data") or raw.get("url"))
        if "callback_data" in raw:
            await self._callback(chat, stored, raw["callback_data"], expect_reply, settle)
        elif raw.get("pay"):
            await self.pay(stored.message_id, expect_reply=expect_reply)
        elif "url" not in raw:
            kinds = sorted(set(raw) - {"text"})
            raise AssertionError(f"button {button.text!r} ({kinds}) can't be pressed here")
        return button

    async def press_data(
        self, data: str, *, message: MessageRef = None, expect_reply: bool = True
    ) -> None:
        """Send any callback data from a message, as a tampering or outdated client could."""
        chat = self._bot.chats[message.chat_id] if isinstance(message, MessageView) else self.chat
        await self._callback(chat, self._find(chat, message), data, expect_reply)

    async def press_reply(self, text: str, *, expect_reply: bool = True) -> MessageView:
        """Press a reply-keyboard button: sends its text, or her contact/location."""
        markup = self.chat.reply_keyboard
        if not markup:
            raise AssertionError(f"{self.user.first_name} has no reply keyboard on screen")
        rows = markup["keyboard"]
        listing = "\n".join("    " + " | ".join(b.get("text", "") for b in row) for row in rows)
        raw = _pick([b for row in rows for b in row], text, "reply button", listing)
        if markup.get("one_time_keyboard"):
            self.chat.reply_keyboard = None
        if raw.get("request_contact"):
            return await self.share_contact(expect_reply=expect_reply)
        if raw.get("request_location"):
            location = {"latitude": 55.7558, "longitude": 37.6173}
            return await self._post(self.chat, {"location": location}, expect_reply=expect_reply)
        return await self.send(raw["text"], expect_reply=expect_reply)

    async def pay(self, message: MessageRef = None, *, expect_reply: bool = True) -> PaymentResult:
        """Pay the last invoice: pre-checkout query, then successful_payment if it was ok."""
        bot, world = self._bot, self._emu.world
        stored = self._invoice_message(message)
        terms = stored.invoice or {}
        invoice = stored.api["invoice"]
        query_id = str(secrets.randbits(62))
        body: dict[str, Any] = {
            "id": query_id,
            "from": self.user.to_api(),
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": terms.get("payload", ""),
        }
        order_info = self._order_info(terms)
        if order_info:
            body["order_info"] = order_info
        query = PreCheckoutRecord(query_id, self.user.id, created=time.monotonic())
        bot.pre_checkouts[query_id] = query
        record = enqueue(
            world, bot, "pre_checkout_query", body, chat_id=self.chat_id, query_id=query_id
        )
        deadline = time.monotonic() + world.config.precheckout_timeout
        while not query.answered.is_set():
            if record.dropped:
                raise AssertionError(
                    f"the pre-checkout query never reached the bot: {record.dropped}"
                )
            if time.monotonic() >= deadline:
                query.expired = True
                return PaymentResult(ok=False, timed_out=True)
            await bot.activity.wait(deadline - time.monotonic())
        await settle_update(world, bot, record, expect_reply=False)
        if not query.ok:
            return PaymentResult(ok=False, error_message=query.error_message)
        payment: dict[str, Any] = {
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": terms.get("payload", ""),
            "telegram_payment_charge_id": f"tg_{secrets.token_hex(8)}",
            "provider_payment_charge_id": f"pr_{secrets.token_hex(8)}",
        }
        if order_info:
            payment["order_info"] = order_info
        view = await self._post(
            self.chat, {"successful_payment": payment}, expect_reply=expect_reply
        )
        return PaymentResult(ok=True, message=view)

    async def send_raw(self, content: dict[str, Any], *, expect_reply: bool = True) -> MessageView:
        """A message with any content, e.g. a replayed ``successful_payment``."""
        return await self._post(self.chat, content, expect_reply=expect_reply)

    async def block(self, *, wait: bool = True) -> None:
        """Block the bot: its sends get 403 and it receives a my_chat_member update."""
        await self._set_blocked(True, wait)

    async def unblock(self, *, wait: bool = True) -> None:
        await self._set_blocked(False, wait)

    # -- machinery --------------------------------------------------------------------

    async def _set_blocked(self, blocked: bool, wait: bool) -> None:
        bot = self._bot
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        if blocked:
            bot.blocked_by.add(self.user.id)
        else:
            bot.blocked_by.discard(self.user.id)
        body = {
            "chat": self.chat.to_api(),
            "from": self.user.to_api(),
            "date": now(),
            "old_chat_member": {
                "status": old,
                "user": bot.user.to_api(),
                **({"until_date": 0} if old == "kicked" else {}),
            },
            "new_chat_member": {
                "status": new,
                "user": bot.user.to_api(),
                **({"until_date": 0} if new == "kicked" else {}),
            },
        }
        record = enqueue(self._emu.world, bot, "my_chat_member", body, chat_id=self.chat_id)
        if wait:
            await settle_update(
                self._emu.world, bot, record, expect_reply=False, allow_dropped=True
            )

    def _order_info(self, terms: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {}
        if terms.get("need_name"):
            info["name"] = " ".join(filter(None, [self.user.first_name, self.user.last_name]))
        if terms.get("need_phone_number") and self.user.phone:
            info["phone_number"] = self.user.phone.lstrip("+")
        if terms.get("need_email"):
            info["email"] = f"user{self.user.id}@example.com"
        return info

    def _find(self, chat: ChatState, ref: MessageRef) -> StoredMessage:
        message_id = ref.message_id if isinstance(ref, MessageView) else ref
        stored = chat.messages.get(message_id) if message_id is not None else None
        if stored is None:
            raise AssertionError(f"message {message_id} is not in chat {chat.id} (deleted?)")
        return stored

    def _keyboard_message(self, chat: ChatState, ref: MessageRef) -> StoredMessage:
        if ref is not None:
            stored = self._find(chat, ref)
            if "reply_markup" not in stored.api:
                raise AssertionError(f"message {stored.message_id} has no inline keyboard")
            return stored
        for _, stored in sorted(chat.messages.items(), reverse=True):
            if stored.from_bot and "reply_markup" in stored.api:
                return stored
        shown = "\n".join(str(m) for m in chat_messages(chat)[-5:]) or "(empty chat)"
        raise AssertionError(
            f"no bot message with an inline keyboard; the chat ends with:\n{shown}"
        )

    def _invoice_message(self, ref: MessageRef) -> StoredMessage:
        if ref is not None:
            stored = self._find(self.chat, ref)
            if stored.invoice is None:
                raise AssertionError(f"message {stored.message_id} is not an invoice")
            return stored
        for _, stored in sorted(self.chat.messages.items(), reverse=True):
            if stored.invoice is not None:
                return stored
        raise AssertionError(f"{self.user.first_name} has no invoice to pay")

    async def _callback(
        self,
        chat: ChatState,
        stored: StoredMessage,
        data: str,
        expect_reply: bool,
        settle: bool = True,
    ) -> None:
        bot = self._bot
        query_id = str(secrets.randbits(62))
        bot.callbacks[query_id] = CallbackRecord(
            query_id, self.user.id, created=time.monotonic(), chat_id=chat.id
        )
        bot.callback_answers.pop(self.user.id, None)
        body = {
            "id": query_id,
            "from": self.user.to_api(),
            "message": copy.deepcopy(stored.api),
            "chat_instance": str(abs(hash((bot.token, chat.id))) % 10**18),
            "data": data,
        }
        record = enqueue(
            self._emu.world, bot, "callback_query", body, chat_id=chat.id, query_id=query_id
        )
        if settle:
            await settle_update(self._emu.world, bot, record, expect_reply=expect_reply)

    async def _post(
        self,
        chat: ChatState,
        content: dict[str, Any],
        *,
        thread_id: int | None = None,
        reply_to: MessageRef = None,
        expect_reply: bool = True,
        settle: bool = True,
    ) -> MessageView:
        bot, world = self._bot, self._emu.world
        if chat.migrated_to is not None:
            raise AssertionError(f"chat {chat.id} was upgraded to {chat.migrated_to}")
        if chat.type == "private":
            chat.started = True
            bot.blocked_by.discard(self.user.id)
        elif chat.members.get(self.user.id) in (None, "left"):
            chat.members[self.user.id] = "member"
        api: dict[str, Any] = {
            "message_id": chat.next_message_id(),
            "from": self.user.to_api(),
            "chat": chat.to_api(),
            "date": now(),
        }
        if thread_id is not None:
            topic = chat.topics.get(thread_id)
            if topic is None:
                raise AssertionError(f"no topic {thread_id} in chat {chat.id}")
            api["message_thread_id"] = thread_id
            api["is_topic_message"] = True
            if reply_to is None and thread_id in chat.messages:
                reply_to = thread_id
        if reply_to is not None:
            target = copy.deepcopy(self._find(chat, reply_to).api)
            target.pop("reply_to_message", None)
            api["reply_to_message"] = target
        api.update(content)
        stored = StoredMessage(api=api, from_bot=False)
        chat.messages[stored.message_id] = stored
        if chat.type != "private" and not _bot_hears(bot, chat, api):
            return MessageView.of(stored)
        record = enqueue(world, bot, "message", copy.deepcopy(api), chat_id=chat.id)
        if settle:
            await settle_update(world, bot, record, expect_reply=expect_reply)
        return MessageView.of(stored)


class Group:
    """A group or supergroup (optionally a forum) the bot is in."""

    def __init__(self, emu: TelegramEmulator, bot: BotState, chat: ChatState) -> None:
        self._emu = emu
        self._bot = bot
        self._chat_id = chat.id

    def __repr__(self) -> str:
        return f"<Group {self.title!r} id={self.id}>"

    @property
    def chat(self) -> ChatState:
        return self._bot.chats[self._chat_id]

    @property
    def id(self) -> int:
        return self._chat_id

    @property
    def title(self) -> str:
        return self.chat.title or ""

    @property
    def is_forum(self) -> bool:
        return self.chat.is_forum

    @property
    def messages(self) -> list[MessageView]:
        return chat_messages(self.chat)

    @property
    def screen(self) -> MessageView:
        shown = [m for m in self.messages if m.from_bot]
        if not shown:
            raise AssertionError(f"no message from the bot in {self.title!r} yet")
        return shown[-1]

    @property
    def topics(self) -> list[TopicView]:
        return [TopicView.of(self.chat, t) for _, t in sorted(self.chat.topics.items())]

    def topic(self, name_or_id: str | int) -> TopicView:
        for view in self.topics:
            if name_or_id in (view.name, view.thread_id):
                return view
        names = [t.name for t in self.topics]
        raise AssertionError(f"no topic {name_or_id!r} in {self.title!r}; there are {names}")

    async def wait_for(self, text: str, *, within: float | None = None) -> MessageView:
        """A bot message containing ``text`` in the group, waiting for it if not there yet."""
        return await wait_for_message(self._emu, self._bot, self.chat, text, within)

    def set_status(self, person: Person, status: str) -> None:
        """creator, administrator, member, restricted, left or kicked."""
        self.chat.members[person.id] = status

    def status(self, person: Person) -> str:
        return self.chat.members.get(person.id, "left")

    async def migrate(self, *, wait: bool = True) -> Group:
        """Upgrade a basic group to a supergroup; the old id then answers 400 migrate."""
        return await self._emu.migrate_group(self, wait=wait)

    def delete_topic(self, thread_id: int) -> None:
        """An admin deletes a forum topic in the app: it and its messages are gone, and, as
        on Telegram, the bot gets no update about it (a later send answers 400 "message
        thread not found")."""
        chat = self.chat
        if chat.topics.pop(thread_id, None) is None:
            raise AssertionError(f"no topic {thread_id} in {self.title!r}")
        for message_id in [
            m for m, s in chat.messages.items() if s.api.get("message_thread_id") == thread_id
        ]:
            del chat.messages[message_id]

    def remove_bot(self) -> None:
        """An admin removes the bot from the group: its sends there answer 403 "bot was
        kicked from the ... chat" (the my_chat_member update is not emulated)."""
        self.chat.members[self._bot.user.id] = "kicked"

    async def pin(self, person: Person, message: MessageView) -> None:
        """``person`` pins ``message``: the service message (with the pinned one) reaches the
        bot, in the message's topic if it is in one."""
        stored = copy.deepcopy(self.chat.messages[message.message_id].api)
        stored.pop("reply_to_message", None)
        await person._post(
            self.chat,
            {"pinned_message": stored},
            thread_id=message.thread_id if message.thread_id in self.chat.topics else None,
            expect_reply=False,
        )


async def wait_for_message(
    emu: TelegramEmulator, bot: BotState, chat: ChatState, text: str, within: float | None
) -> MessageView:
    """Poll nothing: re-check whenever the bot makes a call, until the text shows up."""
    world = emu.world
    deadline = time.monotonic() + (world.config.settle_timeout if within is None else within)
    while True:
        shown = [m for m in chat_messages(chat) if m.from_bot]
        found = next((m for m in reversed(shown) if m.text and text in m.text), None)
        if found is not None:
            await settle_bot(world, bot)
            return next((m for m in chat_messages(chat) if m.message_id == found.message_id), found)
        if time.monotonic() >= deadline:
            last = "\n".join(str(m) for m in shown[-5:]) or "(nothing from the bot)"
            raise AssertionError(
                f"no bot message containing {text!r} in chat {chat.id}; the last ones:\n{last}\n"
                f"{recent_calls(world, bot)}"
            )
        await bot.activity.wait(deadline - time.monotonic())


def _bot_hears(bot: BotState, chat: ChatState, api: dict[str, Any]) -> bool:
    """Privacy mode: a bot that is not an admin hears commands, replies and mentions only."""
    if chat.members.get(bot.user.id) in ("administrator", "creator"):
        return True
    text = api.get("text", "")
    replied = api.get("reply_to_message", {}).get("from", {}).get("id") == bot.user.id
    return text.startswith("/") or replied or f"@{bot.user.username}" in text


def _text_content(text: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        length = len(command.encode("utf-16-le")) // 2
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return content


@asynccontextmanager
async def running_telegram_emulator(**options: Any) -> AsyncIterator[TelegramEmulator]:
    """An emulator started on a free port for the duration of a test or fixture."""
    from .emulator import TelegramEmulator

    emu = TelegramEmulator(**options)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
