"""Finding the customer behind a messenger account, and what we may keep about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shop.accounts import AccountRef, Channel
from shop.conversation import State
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

    Read with one Core query per update (no ORM objects to load, track and flush); the
    functions below that change a customer also change this copy, so a screen drawn in the
    same update shows the new values.
    """

    id: int
    language: str
    display_name: str = ""
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    state: State = field(default_factory=State)


_customers, _accounts = Customer.__table__, ChannelAccount.__table__
_states = ConversationState.__table__
_FIND = (
    select(
        _customers.c.id,
        _customers.c.language,
        _customers.c.display_name,
        _customers.c.name,
        _customers.c.phone,
        _customers.c.address,
        _states.c.step,
        _states.c.data,
        _accounts.c.id.label("account_id"),
        _accounts.c.reachable,
        _accounts.c.last_seen_at,
    )
    .select_from(_accounts)
    .join(_customers, _customers.c.id == _accounts.c.customer_id)
    .outerjoin(_states, _states.c.customer_id == _customers.c.id)
    .where(
        _accounts.c.channel == bindparam("channel"),
        _accounts.c.external_id == bindparam("external_id"),
    )
)


async def _find(session: AsyncSession, account: AccountRef) -> tuple[Shopper, Row[Any]] | None:
    """The shopper and their account row, in one query."""
    params = {"channel": account.channel.value, "external_id": account.external_id}
    row = (await session.execute(_FIND, params)).first()
    if row is None:
        return None
    shopper = Shopper(
        row.id,
        row.language,
        row.display_name,
        row.name,
        row.phone,
        row.address,
        State.stored_as(row.step, row.data),  # no row yet: the empty state
    )
    return shopper, row


async def find_customer(session: AsyncSession, account: AccountRef) -> Shopper | None:
    found = await _find(session, account)
    return found[0] if found else None


async def get_or_create_customer(
    session: AsyncSession,
    account: AccountRef,
    *,
    display_name: str = "",
    language_code: str | None = None,
    username: str | None = None,
) -> Shopper:
    """The customer for this account, created on first contact (safe under concurrency).

    Writing from an account also marks it reachable and recently used (at most one UPDATE
    per few minutes, so reading the catalog does not write on every click).
    """
    found = await _find(session, account)
    if found is not None:
        shopper, row = found
        now = utcnow()
        if not row.reachable or now - row.last_seen_at > SEEN_GRANULARITY:
            await session.execute(
                update(_accounts)
                .where(_accounts.c.id == row.account_id)
                .values(reachable=True, last_seen_at=now)
            )
        return shopper
    shopper = Shopper(
        0, pick_language(language_code), display_name[:200], state=State.stored_as(None, None)
    )
    try:
        async with session.begin_nested():
            created = await session.execute(
                insert(_customers)
                .values(display_name=shopper.display_name, language=shopper.language)
                .returning(_customers.c.id)
            )
            shopper.id = created.scalar_one()
            await session.execute(
                insert(_accounts).values(
                    customer_id=shopper.id,
                    channel=account.channel.value,
                    external_id=account.external_id,
                    username=username,
                )
            )
    except IntegrityError:  # another request created it first
        found = await _find(session, account)
        assert found is not None
        shopper = found[0]
    return shopper


async def set_language(session: AsyncSession, shopper: Shopper, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    await _update(session, shopper, language=language)


async def _update(session: AsyncSession, shopper: Shopper, **values: Any) -> None:
    await session.execute(update(_customers).where(_customers.c.id == shopper.id).values(values))
    for key, value in values.items():
        if hasattr(shopper, key):
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
    """Each customer's reachable accounts, most recently used first, with their language."""
    query = (
        select(
            ChannelAccount.customer_id,
            ChannelAccount.channel,
            ChannelAccount.external_id,
            Customer.language,
        )
        .join(Customer)
        .where(ChannelAccount.customer_id.in_(customer_ids), ChannelAccount.reachable.is_(True))
        .order_by(ChannelAccount.last_seen_at.desc())
    )
    found: dict[int, list[tuple[AccountRef, str]]] = {}
    for customer_id, channel, external_id, language in await session.execute(query):
        found.setdefault(customer_id, []).append(
            (AccountRef(Channel(channel), external_id), language)
        )
    return found
