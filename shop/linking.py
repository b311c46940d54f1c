"""One person, several messengers: joining their accounts by a one-time code, and parting them.

A code is asked for in one messenger and typed in the other: only then are the two customers
joined (never by a matching name or phone). The older customer stays; every row that points
at the younger one moves to it, found from the schema's foreign keys, so tables added later
follow without a change here. Cart lines are merged line by line and conversation state is
dropped (the older customer's is kept).

Unlinking gives the account a customer of its own again. Orders remember the messenger they
were placed from (``orders.channel``; a customer holds at most one account per messenger, a
rule linking keeps), so each order, with the rows that belong to it, goes back to the side that
placed it. The cart, tickets without an order and everything else stay with the customer who
remains.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    PrimaryKeyConstraint,
    Row,
    Table,
    UniqueConstraint,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shop import audit
from shop.accounts import AccountRef, Channel
from shop.cart import MAX_LINES, MAX_QUANTITY
from shop.db import Base, table_of
from shop.models import (
    CartLine,
    ChannelAccount,
    ConversationState,
    Customer,
    LinkAttempt,
    LinkCode,
    Order,
    Variant,
)
from shop.models.types import utcnow

log = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_WRONG_TRIES = 5
"""Wrong, expired or spent codes one account may type within WRONG_TRIES_WINDOW."""
WRONG_TRIES_WINDOW = timedelta(minutes=10)
KEPT_FOR = timedelta(days=1)
"""How long spent and expired codes, and wrong tries, are kept."""

_customers, _accounts = table_of(Customer), table_of(ChannelAccount)
_codes, _tries = table_of(LinkCode), table_of(LinkAttempt)
_cart, _orders, _states = table_of(CartLine), table_of(Order), table_of(ConversationState)
_CODE_TEXT = re.compile(r"\d{3}[\s-]?\d{3}")


class Outcome(StrEnum):
    LINKED = "linked"
    WRONG = "wrong"
    EXPIRED = "expired"
    USED = "used"
    OWN = "own"
    """The code was asked for by this same person (typed in the same messenger)."""
    SAME_CHANNEL = "same_channel"
    """Both sides already have an account in one messenger: not two messengers of one person."""
    TOO_MANY = "too_many"


@dataclass
class Linked:
    """What a code did: on LINKED, who stays, who went, whom to tell and what moved."""

    outcome: Outcome
    customer_id: int = 0
    joined_id: int = 0
    issuer: AccountRef | None = None
    moved: dict[str, int] = field(default_factory=dict)
    cart_lines_dropped: int = 0


def read_code(text: str) -> str | None:
    """The code in what a person typed ("123456", "123 456", "123-456"), or None."""
    text = text.strip()
    return re.sub(r"\D", "", text) if _CODE_TEXT.fullmatch(text) else None


def _hash(code: str) -> str:
    return hashlib.sha256(f"shop-link:{code}".encode()).hexdigest()


async def _account_id(session: AsyncSession, account: AccountRef) -> int:
    found = await session.scalar(
        select(_accounts.c.id).where(
            _accounts.c.channel == account.channel.value,
            _accounts.c.external_id == account.external_id,
        )
    )
    if found is None:
        raise LookupError(f"no account {account}")
    return int(found)


async def issue_code(
    session: AsyncSession, account: AccountRef, now: datetime | None = None
) -> str:
    """A new code for ``account``, valid CODE_LIFETIME; its earlier codes stop working.

    Codes and wrong tries past KEPT_FOR go here too (a spent code is kept a while to say
    "already used" rather than "no such code").
    """
    now = now or utcnow()
    account_id = await _account_id(session, account)
    await session.execute(delete(_codes).where(_codes.c.expires_at < now - KEPT_FOR))
    await session.execute(delete(_tries).where(_tries.c.created_at < now - KEPT_FOR))
    await session.execute(
        update(_codes)
        .where(_codes.c.account_id == account_id, _codes.c.used_at.is_(None))
        .where(_codes.c.expires_at > now)
        .values(expires_at=now)
    )
    while True:  # a code equal to another live one would be ambiguous: draw again
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        taken = await session.scalar(
            select(func.count())
            .select_from(_codes)
            .where(
                _codes.c.code_hash == _hash(code),
                _codes.c.used_at.is_(None),
                _codes.c.expires_at > now,
            )
        )
        if not taken:
            break
    await session.execute(
        insert(_codes).values(
            account_id=account_id,
            code_hash=_hash(code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    return code


async def redeem_code(
    session: AsyncSession,
    account: AccountRef,
    customer_id: int,
    code: str,
    now: datetime | None = None,
) -> Linked:
    """Join the customer who asked for ``code`` and ``customer_id`` (the one typing it).

    The caller holds ``customer_id`` (its conversation lock); a wrong, expired or spent code
    is counted against the typing account, and past MAX_WRONG_TRIES it is not even looked up.
    """
    now = now or utcnow()
    account_id = await _account_id(session, account)
    if await _recent_wrong_tries(session, account_id, now) >= MAX_WRONG_TRIES:
        return Linked(Outcome.TOO_MANY)
    found = (
        await session.execute(
            select(_codes.c.id, _codes.c.expires_at, _codes.c.used_at, _accounts.c.customer_id)
            .join(_accounts, _accounts.c.id == _codes.c.account_id)
            .add_columns(_accounts.c.channel, _accounts.c.external_id)
            .where(_codes.c.code_hash == _hash(code))
            .order_by(_codes.c.used_at.is_(None).desc(), _codes.c.expires_at.desc())
            .limit(1)
            .with_for_update(of=_codes)  # a second person typing it waits, then sees it spent
        )
    ).first()
    refused = _refusal(found, now)
    if refused is not None:
        await session.execute(insert(_tries).values(account_id=account_id, created_at=now))
        return Linked(refused)
    assert found is not None
    if found.customer_id == customer_id:
        return Linked(Outcome.OWN)
    if await _share_a_messenger(session, found.customer_id, customer_id):
        return Linked(Outcome.SAME_CHANNEL)
    spent = await session.execute(
        update(_codes)
        .where(_codes.c.id == found.id, _codes.c.used_at.is_(None), _codes.c.expires_at > now)
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        # Someone else typed the same code a moment ago and won.
        await session.execute(insert(_tries).values(account_id=account_id, created_at=now))
        return Linked(Outcome.USED)
    issuer = AccountRef(Channel(found.channel), found.external_id)
    linked = await join_customers(session, found.customer_id, customer_id)
    linked.issuer = issuer
    await audit.record(
        session,
        account,
        "link_accounts",
        f"customer:{linked.customer_id}",
        before={"customers": sorted((found.customer_id, customer_id)), "code_from": str(issuer)},
        after={
            "customer": linked.customer_id,
            "moved": linked.moved,
            "cart_lines_dropped": linked.cart_lines_dropped,
        },
    )
    return linked


def _refusal(found: Row[Any] | None, now: datetime) -> Outcome | None:
    if found is None:
        return Outcome.WRONG
    if found.used_at is not None:
        return Outcome.USED
    if found.expires_at <= now:
        return Outcome.EXPIRED
    return None


async def _recent_wrong_tries(session: AsyncSession, account_id: int, now: datetime) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(_tries)
            .where(
                _tries.c.account_id == account_id,
                _tries.c.created_at > now - WRONG_TRIES_WINDOW,
            )
        )
        or 0
    )


async def _share_a_messenger(session: AsyncSession, first: int, second: int) -> bool:
    """Whether both customers have an account in one messenger (two Telegram accounts are
    two people as far as the shop can tell; an order's messenger must name its side)."""
    query = (
        select(_accounts.c.channel)
        .where(_accounts.c.customer_id.in_((first, second)))
        .group_by(_accounts.c.channel)
        .having(func.count(func.distinct(_accounts.c.customer_id)) > 1)
    )
    return (await session.execute(query)).first() is not None


async def join_customers(session: AsyncSession, first: int, second: int) -> Linked:
    """Move everything of the younger customer to the older one and delete the younger.

    The older keeps its language, consents and contact details; its notification choice,
    if it made none, is the younger's.
    """
    rows = (
        await session.execute(
            select(_customers.c.id, _customers.c.notify_channel)
            .where(_customers.c.id.in_((first, second)))
            .order_by(_customers.c.created_at, _customers.c.id)
            .with_for_update()
        )
    ).all()
    (older, older_choice), (younger, younger_choice) = rows
    dropped = await _merge_carts(session, older, younger)
    await session.execute(delete(_states).where(_states.c.customer_id == younger))
    moved: dict[str, int] = {}
    for column in customer_references():
        if column.table.name in (_cart.name, _states.name):
            continue
        count = await _move_rows(session, column, younger, older)
        if count:
            moved[column.table.name] = moved.get(column.table.name, 0) + count
    if older_choice is None and younger_choice is not None:
        await session.execute(
            update(_customers).where(_customers.c.id == older).values(notify_channel=younger_choice)
        )
    await session.execute(delete(_customers).where(_customers.c.id == younger))
    log.info("customer %s joined into %s: %s", younger, older, moved)
    return Linked(Outcome.LINKED, older, younger, moved=moved, cart_lines_dropped=dropped)


def customer_references() -> Iterator[Column[int]]:
    """Every column of the schema that refers to a customer (customers.id)."""
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column is _customers.c.id:
                yield key.parent  # type: ignore[misc]


async def _move_rows(session: AsyncSession, column: Column[int], source: int, target: int) -> int:
    """Point ``column`` from ``source`` to ``target``. Where a unique key with the column
    would clash (the target already has its own such row) the source's row is dropped."""
    table = column.table
    assert isinstance(table, Table)
    keys = _unique_keys(table, column)
    clashes = []
    for others in keys:
        twin = table.alias("twin")
        clashes.append(
            ~exists().where(
                twin.c[column.name] == target,
                *(twin.c[other.name] == table.c[other.name] for other in others),
            )
        )
    result = await session.execute(
        update(table).where(column == source, *clashes).values({column.name: target})
    )
    if keys:
        left = await session.execute(delete(table).where(column == source))
        gone = int(left.rowcount)  # type: ignore[attr-defined]
        if gone:
            log.warning("%d %s row(s) of customer %s clashed and went", gone, table.name, source)
    return int(result.rowcount)  # type: ignore[attr-defined]


def _unique_keys(table: Table, column: Column[int]) -> list[list[Column[object]]]:
    """For each unique key of ``table`` that includes ``column``, its other columns."""
    keys: list[list[Column[object]]] = []
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint):
            columns = list(constraint.columns)
            if column in columns:
                keys.append([c for c in columns if c is not column])
    for index in table.indexes:
        if isinstance(index, Index) and index.unique and column in index.columns:
            keys.append([c for c in index.columns if c is not column])
    return keys


async def _merge_carts(session: AsyncSession, older: int, younger: int) -> int:
    """Add the younger cart's lines to the older's; return how many did not fit (MAX_LINES).

    A shared product's quantities add up, capped by stock and MAX_QUANTITY, but never below
    what either cart had (a line already over stock is flagged in the cart, not shrunk here).
    """
    kept = dict(
        (
            await session.execute(
                select(_cart.c.variant_id, _cart.c.quantity).where(_cart.c.customer_id == older)
            )
        ).all()
    )
    incoming = (
        await session.execute(
            select(_cart.c.variant_id, _cart.c.quantity, Variant.stock)
            .join(Variant, Variant.id == _cart.c.variant_id)
            .where(_cart.c.customer_id == younger)
            .order_by(_cart.c.id)
        )
    ).all()
    dropped = 0
    for variant_id, quantity, stock in incoming:
        mine = kept.get(variant_id)
        if mine is not None:
            merged = max(min(mine + quantity, MAX_QUANTITY, stock), mine, quantity)
            if merged != mine:
                await session.execute(
                    update(_cart)
                    .where(_cart.c.customer_id == older, _cart.c.variant_id == variant_id)
                    .values(quantity=merged)
                )
        elif len(kept) < MAX_LINES:
            await session.execute(
                insert(_cart).values(customer_id=older, variant_id=variant_id, quantity=quantity)
            )
            kept[variant_id] = quantity
        else:
            dropped += 1
    await session.execute(delete(_cart).where(_cart.c.customer_id == younger))
    return dropped


@dataclass
class Unlinked:
    """The account that left, its new customer, who remains and what went with it."""

    account: AccountRef
    customer_id: int
    remaining_id: int
    remaining: list[AccountRef]
    orders: list[int]


async def unlink(session: AsyncSession, account: AccountRef, customer_id: int) -> Unlinked | None:
    """Give ``account`` a customer of its own, taking the orders placed from its messenger
    (and every row that belongs to those orders); None if it is the customer's only account.

    The new customer speaks the same language; consents and contact details are not copied
    (the person who remains may not be the one leaving).
    """
    accounts = (
        await session.execute(
            select(_accounts.c.id, _accounts.c.channel, _accounts.c.external_id).where(
                _accounts.c.customer_id == customer_id
            )
        )
    ).all()
    if len(accounts) < 2:
        return None
    mine = (account.channel.value, account.external_id)
    leaving = next((a for a in accounts if (a.channel, a.external_id) == mine), None)
    if leaving is None:
        return None
    old = (
        await session.execute(
            select(_customers.c.display_name, _customers.c.language).where(
                _customers.c.id == customer_id
            )
        )
    ).one()
    new_id = (
        await session.execute(
            insert(_customers)
            .values(display_name=old.display_name, language=old.language, created_at=utcnow())
            .returning(_customers.c.id)
        )
    ).scalar_one()
    await session.execute(
        update(_accounts).where(_accounts.c.id == leaving.id).values(customer_id=new_id)
    )
    await session.execute(
        update(_codes)
        .where(_codes.c.account_id == leaving.id, _codes.c.used_at.is_(None))
        .values(used_at=utcnow())
    )
    orders = list(
        (
            await session.execute(
                update(_orders)
                .where(
                    _orders.c.customer_id == customer_id, _orders.c.channel == account.channel.value
                )
                .values(customer_id=new_id)
                .returning(_orders.c.id)
            )
        ).scalars()
    )
    if orders:
        for column in customer_references():
            for key in column.table.foreign_keys:
                if key.column is _orders.c.id and column.table is not _orders:
                    await session.execute(
                        update(column.table)
                        .where(column == customer_id, key.parent.in_(orders))
                        .values({column.name: new_id})
                    )
    remaining = [
        AccountRef(Channel(a.channel), a.external_id) for a in accounts if a.id != leaving.id
    ]
    await session.execute(  # a choice of the messenger that left means "the last used" again
        update(_customers)
        .where(_customers.c.id == customer_id, _customers.c.notify_channel == leaving.channel)
        .values(notify_channel=None)
    )
    await audit.record(
        session,
        account,
        "unlink_account",
        f"customer:{customer_id}",
        before={"customer": customer_id, "accounts": [str(account), *map(str, remaining)]},
        after={"customer": new_id, "account": str(account), "orders": sorted(orders)},
    )
    return Unlinked(account, new_id, customer_id, remaining, sorted(orders))


async def linked_accounts(session: AsyncSession, customer_id: int) -> list[AccountRef]:
    """The customer's accounts, in the order they were added."""
    rows = await session.execute(
        select(_accounts.c.channel, _accounts.c.external_id)
        .where(_accounts.c.customer_id == customer_id)
        .order_by(_accounts.c.id)
    )
    return [AccountRef(Channel(channel), external_id) for channel, external_id in rows]


async def notify_channel(session: AsyncSession, customer_id: int) -> str | None:
    return await session.scalar(
        select(_customers.c.notify_channel).where(_customers.c.id == customer_id)
    )


async def choose_notify_channel(
    session: AsyncSession, customer_id: int, channel: Channel | None
) -> None:
    """Send notifications to ``channel`` (one of the customer's), or None: the last used."""
    await session.execute(
        update(_customers)
        .where(_customers.c.id == customer_id)
        .values(notify_channel=channel.value if channel else None)
    )
