"""Shop settings an owner changes from the chat without a restart, kept in the database.

Each is read where it is used, so a change counts from the next message on; a setting never
set falls back to its default (the process configuration where there is one).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shop import audit
from shop.accounts import AccountRef
from shop.db import CONFLICT_INSERTS, table_of
from shop.errors import ShopError
from shop.models import ShopSetting

MAX_TEXT = 500


@dataclass(frozen=True)
class Setting:
    """What a setting accepts: text up to ``max_length``, or a whole number in a range."""

    key: str
    max_length: int = 0
    low: int = 0
    high: int = 0

    def clean(self, value: str) -> str:
        value = value.strip()
        if self.max_length:
            if not 1 <= len(value) <= self.max_length:
                raise ShopError("settings_bad_text", limit=self.max_length)
            return value
        if not value.isdigit() or not self.low <= int(value) <= self.high:
            raise ShopError("settings_bad_number", low=self.low, high=self.high)
        return str(int(value))


SETTINGS = {
    setting.key: setting
    for setting in (
        Setting("shop_name", max_length=100),
        Setting("greeting", max_length=MAX_TEXT),
        Setting("support_hours", max_length=200),
        Setting("reservation_minutes", low=5, high=7 * 24 * 60),
    )
}


async def read_settings(session: AsyncSession) -> dict[str, str]:
    """Every setting an owner has set (one query)."""
    rows = await session.execute(select(ShopSetting.key, ShopSetting.value))
    return {key: value for key, value in rows}


async def read_setting(session: AsyncSession, key: str) -> str | None:
    return await session.scalar(select(ShopSetting.value).where(ShopSetting.key == key))


async def reservation_minutes(session: AsyncSession, default: int) -> int:
    stored = await read_setting(session, "reservation_minutes")
    return int(stored) if stored and stored.isdigit() else default


async def change_setting(session: AsyncSession, actor: AccountRef, key: str, value: str) -> str:
    """Set ``key`` (one of SETTINGS) to a checked ``value``; returns the stored value."""
    setting = SETTINGS.get(key)
    if setting is None:
        raise ShopError("settings_unknown")
    cleaned = setting.clean(value)
    before = await read_setting(session, key)
    table = table_of(ShopSetting)
    insert = CONFLICT_INSERTS[session.get_bind().dialect.name](table)
    await session.execute(
        insert.values(key=key, value=cleaned).on_conflict_do_update(
            index_elements=[table.c.key], set_={"value": cleaned}
        )
    )
    await audit.record(session, actor, "setting", f"setting:{key}", {key: before}, {key: cleaned})
    return cleaned
