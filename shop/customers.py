"""Finding the customer behind a messenger account, and what we may keep about them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from shop.accounts import AccountRef, Channel
from shop.models import ChannelAccount, ConversationState, Customer
from shop.models.types import utcnow

LANGUAGES = ("ru", "en")


def pick_language(code: str | None) -> str:
    """The UI language for a messenger language code: English if asked for, else Russian."""
    return "en" if code and code.lower().startswith("en") else "ru"


SEEN_GRANULARITY = timedelta(minutes=5)


async def _find(
    session: AsyncSession, account: AccountRef
) -> tuple[Customer, ChannelAccount] | None:
    """The customer and account; their conversation state comes along into the session (the
    same query), so reading it next costs no round trip."""
    query = (
        select(Customer, ChannelAccount)
        .join(ChannelAccount)
        .outerjoin(ConversationState, ConversationState.customer_id == Customer.id)
        .options(contains_eager(Customer.conversation))
        .where(
            ChannelAccount.channel == account.channel.value,
            ChannelAccount.external_id == account.external_id,
        )
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def find_customer(session: AsyncSession, account: AccountRef) -> Customer | None:
    found = await _find(session, account)
    return found[0] if found else None


async def get_or_create_customer(
    session: AsyncSession,
    account: AccountRef,
    *,
    display_name: str = "",
    language_code: str | None = None,
    username: str | None = None,
) -> Customer:
    """The customer for this account, created on first contact (safe under concurrency).

    Writing from an account also marks it reachable and recently used (at most one UPDATE
    per few minutes, so reading the catalog does not write on every click).
    """
    found = await _find(session, account)
    if found is not None:
        customer, channel_account = found
        now = utcnow()
        if not channel_account.reachable or now - channel_account.last_seen_at > SEEN_GRANULARITY:
            channel_account.reachable = True
            channel_account.last_seen_at = now
        return customer
    try:
        async with session.begin_nested():
            customer = Customer(
                display_name=display_name[:200], language=pick_language(language_code)
            )
            session.add(customer)
            await session.flush()
            session.add(
                ChannelAccount(
                    customer_id=customer.id,
                    channel=account.channel.value,
                    external_id=account.external_id,
                    username=username,
                )
            )
            await session.flush()
    except IntegrityError:  # another request created it first
        found = await _find(session, account)
        assert found is not None
        customer = found[0]
    return customer


async def set_language(session: AsyncSession, customer_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    await session.execute(
        update(Customer).where(Customer.id == customer_id).values(language=language)
    )


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
    session: AsyncSession, customer: Customer, *, name: str, phone: str, address: str | None
) -> None:
    """Keep the checkout contact for next time; only called once the shopper agreed."""
    customer.personal_data_consent = True
    customer.name = name
    customer.phone = phone
    if address:
        customer.address = address


async def forget_personal_data(session: AsyncSession, customer: Customer) -> None:
    customer.personal_data_consent = False
    customer.name = customer.phone = customer.address = None


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
