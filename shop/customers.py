"""Finding the customer behind a messenger account, and what we may keep about them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Row,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shop.accounts import AccountRef, Channel
from shop.conversation import State
from shop.db import CONFLICT_INSERTS, table_of
from shop.models import ChannelAccount, ConversationState, Customer
from shop.models.types import utcnow

LANGUAGES = ("ru", "en")


def pick_language(code: str | None) -> str:
    """The UI language for a messenger language code: English if asked for, else Russian."""
    return "en" if code and code.lower().startswith("en") else "ru"


SEEN_GRANULARITY = timedelta(minutes=5)


@dataclass
class Shopper:
    """A customer as the conversation sees them, with their conversation state.

    Every field but ``state`` is a column of ``customers`` of the same name: this class is the
    one list of them, and the lookup reads exactly those (`SHOPPER_COLUMNS`), with one Core
    query per update (no ORM objects to load, track and flush). The functions below that
    change a customer also change this copy, so a screen drawn in the same update shows the
    new values.
    """

    id: int
    language: str
    display_name: str = ""
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    state: State = field(default_factory=State)


_customers, _accounts = table_of(Customer), table_of(ChannelAccount)
_states = table_of(ConversationState)
SHOPPER_COLUMNS = tuple(f.name for f in fields(Shopper) if f.name != "state")
"""The customer columns a Shopper copies, in its fields' order."""
_siblings = _accounts.alias("siblings")
_OTHERS_SEEN = (
    select(func.max(_siblings.c.last_seen_at))
    .where(_siblings.c.customer_id == _accounts.c.customer_id, _siblings.c.id != _accounts.c.id)
    .scalar_subquery()
)
"""When the person last wrote from another of their messengers (None: they have one)."""
_FIND = (
    select(
        *(_customers.c[name] for name in SHOPPER_COLUMNS),
        _states.c.step,
        _states.c.data,
        _accounts.c.id.label("account_id"),
        _accounts.c.reachable,
        _accounts.c.last_seen_at,
        _OTHERS_SEEN.label("others_seen"),
    )
    .select_from(_accounts)
    .join(_customers, _customers.c.id == _accounts.c.customer_id)
    .outerjoin(_states, _states.c.customer_id == _customers.c.id)
    .where(
        _accounts.c.channel == bindparam("channel"),
        _accounts.c.external_id == bindparam("external_id"),
    )
)


def _shopper(row: Row[Any]) -> Shopper:
    shopper = Shopper(*row[: len(SHOPPER_COLUMNS)])
    shopper.state = State.stored_as(row.step, row.data)  # no state row yet: the empty state
    return shopper


_FIND_AND_LOCK = _FIND.with_for_update(of=_customers, key_share=True)
"""The lookup that also holds the customer until the transaction ends (PostgreSQL: FOR NO
KEY UPDATE, which still lets other rows refer to the customer; SQLite serialises writers)."""


async def _find(session: AsyncSession, account: AccountRef, *, lock: bool = False) -> Any:
    """The account's row (the Shopper's columns and state), or None."""
    params = {"channel": account.channel.value, "external_id": account.external_id}
    return (await session.execute(_FIND_AND_LOCK if lock else _FIND, params)).first()


async def find_customer(session: AsyncSession, account: AccountRef) -> Shopper | None:
    row = await _find(session, account)
    return _shopper(row) if row else None


async def get_or_create_customer(
    session: AsyncSession,
    account: AccountRef,
    *,
    display_name: str = "",
    language_code: str | None = None,
    username: str | None = None,
) -> Shopper:
    """The customer for this account, created on first contact (safe under concurrency), and
    held until the transaction ends, so one person's events are handled one at a time.

    Writing from an account also marks it reachable and recently used (at most one UPDATE
    per few minutes, so reading the catalog does not write on every click; at once when the
    person last wrote from another messenger, so notifications follow them there).
    """
    row = await _find(session, account, lock=True)
    if row is not None:
        return await _seen(session, row)
    return await _create(session, account, display_name, language_code, username)


async def _seen(session: AsyncSession, row: Row[Any]) -> Shopper:
    now = utcnow()
    switched = row.others_seen is not None and row.others_seen >= row.last_seen_at
    if not row.reachable or switched or now - row.last_seen_at > SEEN_GRANULARITY:
        await session.execute(
            update(_accounts)
            .where(_accounts.c.id == row.account_id)
            .values(reachable=True, last_seen_at=now)
        )
    return _shopper(row)


_NEW_CUSTOMER = (
    insert(_customers)
    .values(display_name=bindparam("display_name"), language=bindparam("language"))
    .returning(_customers.c.id)
)
_NEW_ACCOUNT = {
    dialect: insert_into(_accounts)
    .values(
        customer_id=bindparam("customer_id"),
        channel=bindparam("channel"),
        external_id=bindparam("external_id"),
        username=bindparam("username"),
    )
    .on_conflict_do_nothing()
    .returning(_accounts.c.id)
    for dialect, insert_into in CONFLICT_INSERTS.items()
}


async def _create(
    session: AsyncSession,
    account: AccountRef,
    display_name: str,
    language_code: str | None,
    username: str | None,
) -> Shopper:
    """A new customer and their account. Two first messages at once: the account's unique
    key picks one; the other's customer row goes and it reads the winner's."""
    language = pick_language(language_code)
    created = await session.execute(
        _NEW_CUSTOMER, {"display_name": display_name[:200], "language": language}
    )
    customer_id = created.scalar_one()
    claimed = await session.execute(
        _NEW_ACCOUNT[session.get_bind().dialect.name],
        {
            "customer_id": customer_id,
            "channel": account.channel.value,
            "external_id": account.external_id,
            "username": username,
        },
    )
    if claimed.first() is None:
        await session.execute(delete(_customers).where(_customers.c.id == customer_id))
        row = await _find(session, account, lock=True)
        assert row is not None
        return _shopper(row)
    return Shopper(customer_id, language, display_name[:200], state=State.stored_as(None, None))


async def set_language(session: AsyncSession, shopper: Shopper, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    await _update(session, shopper, language=language)


async def _update(session: AsyncSession, shopper: Shopper, **values: Any) -> None:
    """Change the customer's row and the same columns of the caller's copy."""
    await session.execute(update(_customers).where(_customers.c.id == shopper.id).values(values))
    for key, value in values.items():
        if key in SHOPPER_COLUMNS:
            setattr(shopper, key, value)


async def mark_unreachable(session: AsyncSession, account: AccountRef) -> None:
    """The person blocked the bot: stop sending there until they write again."""
    await session.execute(
        update(ChannelAccount)
        .where(
            ChannelAccount.channel == account.channel.value,
            ChannelAccount.external_id == account.external_id,
        )
        .values(reachable=False)
    )


async def mark_reachable(session: AsyncSession, account: AccountRef) -> None:
    """The person allowed messages again (VK's message_allow): notifications may go there."""
    await session.execute(
        update(ChannelAccount)
        .where(
            ChannelAccount.channel == account.channel.value,
            ChannelAccount.external_id == account.external_id,
        )
        .values(reachable=True)
    )


async def save_contact(
    session: AsyncSession, shopper: Shopper, *, name: str, phone: str, address: str | None
) -> None:
    """Keep the checkout contact for next time; only called once the shopper agreed."""
    values: dict[str, Any] = {"personal_data_consent": True, "name": name, "phone": phone}
    if address:
        values["address"] = address
    await _update(session, shopper, **values)


async def forget_personal_data(session: AsyncSession, shopper: Shopper) -> None:
    await _update(
        session, shopper, personal_data_consent=False, name=None, phone=None, address=None
    )


async def reachable_accounts(
    session: AsyncSession, customer_ids: list[int]
) -> dict[int, list[tuple[AccountRef, str]]]:
    """Each customer's reachable accounts with their language: the messenger they chose for
    notifications first (Settings), then the most recently used."""
    chosen = case((ChannelAccount.channel == Customer.notify_channel, 0), else_=1)
    query = (
        select(
            ChannelAccount.customer_id,
            ChannelAccount.channel,
            ChannelAccount.external_id,
            Customer.language,
        )
        .join(Customer)
        .where(ChannelAccount.customer_id.in_(customer_ids), ChannelAccount.reachable.is_(True))
        .order_by(chosen, ChannelAccount.last_seen_at.desc())
    )
    found: dict[int, list[tuple[AccountRef, str]]] = {}
    for customer_id, channel, external_id, language in await session.execute(query):
        found.setdefault(customer_id, []).append(
            (AccountRef(Channel(channel), external_id), language)
        )
    return found
