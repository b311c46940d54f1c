"""A person talking to the neutral Conversation directly (no messenger), for flow tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from handlers.conversation import Conversation
from handlers.events import Capabilities, Event, EventKind
from handlers.screens import Reply, Screen
from shop.accounts import AccountRef, Channel

_update_ids = itertools.count(1)


@dataclass
class Person:
    conversation: Conversation
    user_id: int
    name: str = "Алиса"
    language_code: str = "ru"
    channel: Channel = Channel.TELEGRAM
    caps: Capabilities = field(default_factory=lambda: Capabilities(share_contact=True))
    """What the person's messenger can do (by default it shares a contact)."""
    screens: list[Screen] = field(default_factory=list)
    last: Reply | None = None

    async def _send(self, **fields: object) -> Reply:
        event = Event(
            account=AccountRef(self.channel, self.user_id),
            update_id=str(next(_update_ids)),
            display_name=self.name,
            language_code=self.language_code,
            caps=self.caps,
            **fields,  # type: ignore[arg-type]
        )
        self.last = await self.conversation.handle(event)
        for screen in self.last.screens:
            if screen.replace and self.screens:
                self.screens[-1] = screen
            else:
                self.screens.append(screen)
        return self.last

    async def send(self, text: str) -> Reply:
        if text.startswith("/"):
            command, _, argument = text[1:].partition(" ")
            return await self._send(kind=EventKind.COMMAND, command=command, text=argument)
        return await self._send(kind=EventKind.TEXT, text=text)

    async def action(self, action: str) -> Reply:
        return await self._send(kind=EventKind.ACTION, action=action)

    async def press(self, label: str) -> Reply:
        """Press the button whose text contains ``label`` on the newest screen with buttons."""
        screen = next(s for s in reversed(self.screens) if s.buttons)
        found = [b for row in screen.buttons for b in row if label in b.text]
        assert len(found) == 1, f"{label!r} among {[b.text for r in screen.buttons for b in r]}"
        assert found[0].action is not None
        return await self.action(found[0].action)

    async def share_contact(self, phone: str) -> Reply:
        return await self._send(kind=EventKind.CONTACT, phone=phone)

    async def send_sticker(self) -> Reply:
        return await self._send(kind=EventKind.MEDIA)

    @property
    def screen(self) -> Screen:
        return self.screens[-1]

    @property
    def text(self) -> str:
        """The newest screen's text, non-breaking spaces read as spaces."""
        return self.screen.text.replace("\u00a0", " ")

    @property
    def buttons(self) -> list[str]:
        screen = next(s for s in reversed(self.screens) if s.buttons)
        return [b.text for row in screen.buttons for b in row]
