"""What every conversation function gets: the session, the event, the customer and their state."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.events import Attachment, Capabilities, Event, EventKind
from handlers.screens import Button, Reply, Screen
from handlers.texts import t
from shop import roles
from shop.accounts import AccountRef
from shop.billing import PaymentGateway
from shop.conversation import State
from shop.customers import Shopper
from shop.errors import ShopError
from shop.models import Role
from shop.roles import Roster


@dataclass(frozen=True)
class Options:
    """Shop settings the conversation needs, built complete once from the configuration.

    Online payment is the front-end's: a native invoice where the Event's capabilities say
    so, else a link from ``gateway`` (YooKassa); without either only cash is offered.
    """

    reservation_minutes: int = 30
    gateway: PaymentGateway | None = None
    vat_code: int = 1
    max_unpaid_orders: int = 3
    """Orders one shopper may hold stock with unpaid at once (MAX_UNPAID_ORDERS)."""
    max_units_per_sku: int = 10
    """Units of one variant one shopper may hold in unpaid orders (MAX_UNITS_PER_SKU)."""
    roster: Roster = field(default_factory=Roster)
    """Owners and staff named in the settings (OWNERS, STAFF); the staff table adds more."""
    moderator_chat: AccountRef | None = None
    """The staff group (MODERATOR_CHAT); None: staff are told in their private chats."""

    def can_pay_online(self, caps: Capabilities) -> bool:
        return caps.native_invoice or self.gateway is not None


Fetch = Callable[[Attachment], Awaitable[bytes]]
"""A front-end's download of a file a person sent (by the Attachment's channel reference)."""
AfterCommit = Callable[[async_sessionmaker[AsyncSession], Options], Awaitable[None]]
"""Work that calls out over the network (a refund) once the conversation's transaction is
committed; what it needs was stored in that transaction, so a crash leaves it queued."""


@dataclass
class Ctx:
    session: AsyncSession
    event: Event
    customer: Shopper
    options: Options = field(default_factory=Options)
    fetcher: Fetch | None = None
    """The event's front-end download of attachments (None where the channel has none)."""
    after_commit: list[AfterCommit] = field(default_factory=list)

    async def fetch(self, attachment: Attachment) -> bytes:
        """The bytes of a photo or file the person sent, from their messenger."""
        if self.fetcher is None:
            raise ShopError("not_available")
        return await self.fetcher(attachment)

    @property
    def state(self) -> State:
        """The customer's conversation state, saved when the update's handling ends."""
        return self.customer.state

    @property
    def lang(self) -> str:
        return self.customer.language

    @property
    def caps(self) -> Capabilities:
        """What this person's channel can show."""
        return self.event.caps

    @property
    def shares_contact(self) -> bool:
        """Whether this person's messenger can share their phone with a button."""
        return self.event.caps.share_contact

    def t(self, key: str, **params: object) -> str:
        return t(self.lang, key, **params)

    @property
    def in_moderator_chat(self) -> bool:
        """Whether this was written in the staff group (MODERATOR_CHAT)."""
        place, chat = self.event.place, self.options.moderator_chat
        return (
            place is not None
            and chat is not None
            and chat == AccountRef(self.event.account.channel, place.chat_id)
        )

    async def require(self, needed: Role, action: str) -> Role:
        """This person's role if it allows ``action`` (checked on the server), else refused."""
        return await roles.require(
            self.session, self.event.account, self.options.roster, needed, action
        )

    async def role(self) -> Role:
        return await roles.role_of(self.session, self.event.account, self.options.roster)

    def button(self, key: str, action: str, **params: object) -> Button:
        return Button(self.t(key, **params), action=action)

    def screen(self, text: str, *rows: list[Button], **kwargs: object) -> Reply:
        """A one-screen reply; a pressed button's screen replaces the one it was on."""
        replace = self.event.kind is EventKind.ACTION
        keyboard = tuple(tuple(row) for row in rows if row)
        return Reply([Screen(text, keyboard, replace=replace, **kwargs)])  # type: ignore[arg-type]


Handler = Callable[..., Awaitable[Reply]]
Hook = Callable[[Ctx], Awaitable[Reply | None]]
"""Looks at an event and answers it, or returns None to let the next hook have it."""


class Router:
    """Maps action strings (by full-match pattern) and commands to handler functions.

    Besides those: ``step`` handlers get everything a person types or sends while their
    conversation state is at a step with that prefix (a dialog); ``free`` hooks see text
    and media outside any step, in order, before the catalog search; ``group`` hooks see
    every message written in a group chat (the moderator chat), where nothing else answers.
    """

    def __init__(self) -> None:
        self.actions: list[tuple[re.Pattern[str], Handler]] = []
        self.commands: dict[str, Handler] = {}
        self.steps: dict[str, Handler] = {}
        self.free: list[Hook] = []
        self.group: list[Hook] = []

    def action(self, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.actions.append((re.compile(pattern), handler))
            return handler

        return register

    def command(self, *names: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for name in names:
                self.commands[name] = handler
            return handler

        return register

    def step(self, prefix: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.steps[prefix] = handler
            return handler

        return register

    def free_input(self, hook: Hook) -> Hook:
        self.free.append(hook)
        return hook

    def in_group(self, hook: Hook) -> Hook:
        self.group.append(hook)
        return hook

    def include(self, other: Router) -> None:
        self.actions.extend(other.actions)
        self.commands.update(other.commands)
        self.steps.update(other.steps)
        self.free.extend(other.free)
        self.group.extend(other.group)

    def find_step(self, step: str | None) -> Handler | None:
        """The dialog handler for a conversation step, by the longest matching prefix."""
        if not step:
            return None
        matches = [prefix for prefix in self.steps if step.startswith(prefix)]
        return self.steps[max(matches, key=len)] if matches else None

    def find_action(self, action: str) -> tuple[Handler, tuple[str, ...]] | None:
        for pattern, handler in self.actions:
            match = pattern.fullmatch(action)
            if match:
                return handler, tuple(group for group in match.groups() if group is not None)
        return None
