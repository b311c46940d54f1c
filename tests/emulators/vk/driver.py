"""A person talking to a community bot: what end-to-end tests drive and read.

`send` and `press` return once the bot's reaction has settled: the bot took the event
(long poll fetch, or the callback push answered "ok"), made at least one call about
it (a message to the person or an answer to the button press), and then nothing was
in flight for `emu.quiet` seconds. Otherwise, after `emu.settle_timeout`, they fail
with the recent call log.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.emulators.vk.keyboards import Button, Keyboard
from tests.emulators.vk.state import LANG_IDS, Attachment, Group, Inbound, Message, User, now

if TYPE_CHECKING:
    from tests.emulators.vk.server import VkEmulator

POLL_INTERVAL = 0.01
WEAK_QUIET = 1.2
"""How long the bot stays quiet after answering only a press before it counts as done."""
REPLY_METHODS = frozenset({"messages.send", "messages.edit", "messages.delete"})
BUTTON_ACTIONS = [
    "text",
    "vkpay",
    "open_app",
    "location",
    "open_link",
    "callback",
    "intent_subscribe",
    "intent_unsubscribe",
]


@dataclass(frozen=True)
class Screen:
    """The bot's last message as the person sees it, with the keyboard they can press."""

    message: Message
    text: str
    keyboard: Keyboard | None
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def buttons(self) -> list[list[str]]:
        """Rows of button labels."""
        return self.keyboard.labels if self.keyboard else []


class Person:
    """One VK user in their private chat with one community."""

    def __init__(self, emu: VkEmulator, group: Group, user: User) -> None:
        self.emu = emu
        self.group = group
        self.user = user
        self.snackbars: list[str] = []
        self.opened_links: list[str] = []

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def peer_id(self) -> int:
        return self.user.id

    # what the person sees

    @property
    def messages(self) -> list[Message]:
        """The whole conversation, both ways, edits applied, deleted messages gone."""
        return self.emu.world.conversation(self.group.id, self.peer_id).visible()

    @property
    def bot_messages(self) -> list[Message]:
        return [m for m in self.messages if m.out]

    @property
    def keyboard(self) -> Keyboard | None:
        """The standard keyboard under the input field, if the bot set one."""
        return self.emu.world.conversation(self.group.id, self.peer_id).keyboard

    @property
    def screen(self) -> Screen:
        """The bot's last message; AssertionError when it has sent nothing."""
        if not self.bot_messages:
            raise AssertionError(
                f"the bot has sent nothing to {self.user.first_name}; calls:\n"
                + self.emu.recent_calls()
            )
        message = self.bot_messages[-1]
        keyboard = message.keyboard if message.keyboard and message.keyboard.inline else None
        return Screen(message, message.text, keyboard or self.keyboard, list(message.attachments))

    @property
    def last_snackbar(self) -> str | None:
        return self.snackbars[-1] if self.snackbars else None

    def receive_event_answer(self, data: dict[str, Any]) -> None:
        """What sendMessageEventAnswer shows the person: a snackbar or an opened link."""
        if data.get("type") == "show_snackbar":
            self.snackbars.append(str(data["text"]))
        elif data.get("type") == "open_link":
            self.opened_links.append(str(data["link"]))

    def forbid_messages(self) -> None:
        """The person disallows messages from the community (the bot then gets 901)."""
        self.user.allows_messages = False

    def allow_messages(self) -> None:
        self.user.allows_messages = True

    def deny_messages_from_the_community(self) -> Inbound:
        """The person turns the community's messages off: VK sends message_deny."""
        self.user.allows_messages = False
        obj = {"user_id": self.id}
        return self.emu.deliver(self.group, self.peer_id, "message_deny", obj)

    def allow_messages_from_the_community(self) -> Inbound:
        """The person turns them on again: VK sends message_allow."""
        self.user.allows_messages = True
        obj = {"user_id": self.id, "key": ""}
        return self.emu.deliver(self.group, self.peer_id, "message_allow", obj)

    # what the person does

    async def send(
        self,
        text: str = "",
        *,
        payload: str | None = None,
        photo: bytes | None = None,
        document: tuple[str, bytes] | None = None,
        expect_reply: bool = True,
        wait: bool = True,
    ) -> Inbound:
        """Write to the community (optionally with a photo or a file) and await the bot.

        `wait=False` returns at once, for a test that fetches the event itself.
        """
        date = int(self.emu.world.unixtime())
        attachments = []
        if photo is not None:
            attachments.append(
                self.emu.media.from_person("photo", self.id, "photo.jpg", photo, date)
            )
        if document is not None:
            name, data = document
            attachments.append(self.emu.media.from_person("doc", self.id, name, data, date))
        inbound = self._message_new(text, payload, attachments)
        if wait:
            await self.settle(inbound, expect_reply=expect_reply)
        return inbound

    async def press(
        self,
        label: str,
        *,
        message: Message | None = None,
        expect_reply: bool = True,
        wait: bool = True,
    ) -> Inbound | None:
        """Press a button: a text button writes its label, a callback button sends an event.

        Looks on the bot's newest message with an inline keyboard and on the standard
        keyboard (newest first), or only on `message` when given. An open_link button
        just records the link (nothing reaches the bot) and returns None.
        """
        source, button = self._find(label, message)
        if button.type == "callback":
            answer_id = secrets.token_hex(6)
            obj: dict[str, Any] = {
                "user_id": self.id,
                "peer_id": self.peer_id,
                "event_id": answer_id,
                "conversation_message_id": source.cmid,
            }
            if button.payload is not None:
                obj["payload"] = json.loads(button.payload)
            inbound = self.emu.deliver(self.group, self.peer_id, "message_event", obj, answer_id)
        elif button.type == "text":
            keyboard = self.keyboard
            if keyboard is not None and keyboard.one_time and button in keyboard.buttons:
                self.emu.world.conversation(self.group.id, self.peer_id).keyboard = None
            inbound = self._message_new(button.label, button.payload, [])
        elif button.type == "open_link" and button.link:
            self.opened_links.append(button.link)
            return None
        else:
            raise AssertionError(f"pressing a {button.type} button is not emulated")
        if wait:
            await self.settle(inbound, expect_reply=expect_reply)
        return inbound

    async def wait_until(self, predicate: Callable[[], bool], within: float | None = None) -> None:
        """Wait for something the bot does on its own (a notification), then settle."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (within or self.emu.settle_timeout)
        while True:
            try:
                done = predicate()
            except AssertionError:
                done = False
            if done and self.emu.quiet_for() >= self.emu.quiet:
                return
            if loop.time() > deadline:
                raise AssertionError(
                    "the awaited condition did not come true; recent calls:\n"
                    + self.emu.recent_calls()
                )
            await asyncio.sleep(POLL_INTERVAL)

    # settling

    async def settle(self, inbound: Inbound, *, expect_reply: bool = True) -> None:
        """Return once the bot has taken `inbound` and its reaction is over."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.emu.settle_timeout
        while True:
            if inbound.failed:
                raise AssertionError(f"{inbound.type} was not delivered: {inbound.failed}")
            if self._settled(inbound, expect_reply):
                return
            if loop.time() > deadline:
                raise AssertionError(self._timeout_report(inbound, expect_reply))
            await asyncio.sleep(POLL_INTERVAL)

    def _settled(self, inbound: Inbound, expect_reply: bool) -> bool:
        if inbound.delivered_at is None:
            return False
        replied = self._replied(inbound)
        if expect_reply and not replied:
            return False
        if self.emu.in_flight:
            return False
        quiet_since = max(self.emu.last_activity, inbound.delivered_at)
        # Only the press answered so far: a slow press is answered first, its screen later.
        quiet = WEAK_QUIET if replied == "weak" else self.emu.quiet
        return now() - quiet_since >= max(quiet, self.emu.quiet)

    def _replied(self, inbound: Inbound) -> str | None:
        """ "strong" (a message), "weak" (only the press's answer) or None: the reaction."""
        found = None
        for call in reversed(self.emu.world.calls):
            if call.seq <= inbound.seq:
                return found
            if call.fault:
                continue
            if call.method == "messages.sendMessageEventAnswer":
                if inbound.answer_id and call.params.get("event_id") == inbound.answer_id:
                    found = "weak"
            elif call.method in REPLY_METHODS and inbound.peer_id in call.peers():
                return "strong"
        return found

    def _timeout_report(self, inbound: Inbound, expect_reply: bool) -> str:
        if inbound.delivered_at is None:
            poll = self.emu.longpoll(self.group)
            why = (
                f"the bot never took the {inbound.type} event "
                f"(long poll checks so far: {poll.checks}, held now: {poll.waiting})"
            )
        elif expect_reply and not self._replied(inbound):
            why = f"the bot took the {inbound.type} event but made no call about it"
        else:
            why = "the bot kept making calls without a quiet pause"
        return (
            f"{why} within {self.emu.settle_timeout} s; recent calls:\n"
            f"{self.emu.recent_calls()}\nwarnings: {self.emu.warnings}"
        )

    # internals

    def _message_new(
        self, text: str, payload: str | None, attachments: list[Attachment]
    ) -> Inbound:
        self.user.allows_messages = True  # writing to a community lets it answer
        conversation = self.emu.world.conversation(self.group.id, self.peer_id)
        message = Message(
            id=self.group.next_message_id(),
            cmid=conversation.next_cmid(),
            peer_id=self.peer_id,
            from_id=self.id,
            text=text,
            date=int(self.emu.world.unixtime()),
            out=False,
            attachments=attachments,
            payload=payload,
        )
        conversation.messages.append(message)
        obj = {
            "message": message.to_api(),
            "client_info": {
                "button_actions": BUTTON_ACTIONS,
                "keyboard": self.user.keyboard,
                "inline_keyboard": self.user.inline_keyboard and self.user.keyboard,
                "carousel": True,
                "lang_id": LANG_IDS.get(self.user.lang, 0),
            },
        }
        return self.emu.deliver(self.group, self.peer_id, "message_new", obj)

    def _keyboards(self, message: Message | None) -> list[tuple[Message, Keyboard]]:
        if message is not None:
            return [(message, message.keyboard)] if message.keyboard else []
        found: list[tuple[Message, Keyboard]] = []
        bot_messages = self.bot_messages
        inline = next((m for m in reversed(bot_messages) if m.keyboard and m.keyboard.inline), None)
        if inline is not None and inline.keyboard is not None:
            found.append((inline, inline.keyboard))
        standard = self.keyboard
        if standard is not None and bot_messages:
            setter = next((m for m in reversed(bot_messages) if m.keyboard is standard), None)
            found.append((setter or bot_messages[-1], standard))
        found.sort(key=lambda pair: pair[0].cmid, reverse=True)
        return found

    def _find(self, label: str, message: Message | None) -> tuple[Message, Button]:
        keyboards = self._keyboards(message)
        for source, keyboard in keyboards:
            button = keyboard.find(label)
            if button is not None:
                return source, button
        shown = [keyboard.labels for _, keyboard in keyboards]
        raise AssertionError(f"no button {label!r} for {self.user.first_name}; buttons: {shown}")
