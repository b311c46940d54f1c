"""Delivery methods an owner keeps from the chat: name (RU/EN), price, whether an address is
needed, whether cash on delivery is allowed, on or off. Orders keep their own copy of the
method's name and price, so a change never alters an order already placed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop import audit
from shop.accounts import AccountRef
from shop.errors import ShopError
from shop.models import DeliveryMethod

_CODE = re.compile(r"[a-z0-9_-]{1,32}")
MAX_TITLE = 100


@dataclass(frozen=True)
class MethodFields:
    title: str
    title_en: str
    price: int
    needs_address: bool
    cash_on_delivery: bool


def clean_code(text: str) -> str:
    code = text.strip().lower()
    if not _CODE.fullmatch(code):
        raise ShopError("delivery_bad_code")
    return code


async def list_methods(session: AsyncSession) -> list[DeliveryMethod]:
    query = select(DeliveryMethod).order_by(DeliveryMethod.position, DeliveryMethod.id)
    return list(await session.scalars(query))


def _fields(method: DeliveryMethod) -> dict[str, object]:
    return {
        "title": method.title,
        "title_en": method.title_en,
        "price": method.price,
        "needs_address": method.needs_address,
        "cash_on_delivery": method.cash_on_delivery,
        "active": method.active,
    }


async def save_method(
    session: AsyncSession, actor: AccountRef, code: str, fields: MethodFields
) -> bool:
    """Create the method ``code`` or replace its fields; True when it is new."""
    if not 1 <= len(fields.title) <= MAX_TITLE or len(fields.title_en) > MAX_TITLE:
        raise ShopError("delivery_bad_title", limit=MAX_TITLE)
    method = await session.scalar(select(DeliveryMethod).where(DeliveryMethod.code == code))
    before = _fields(method) if method is not None else None
    if method is None:
        position = await session.scalar(select(func.count()).select_from(DeliveryMethod))
        method = DeliveryMethod(code=code, position=position or 0)
        session.add(method)
    method.title, method.title_en, method.price = fields.title, fields.title_en, fields.price
    method.needs_address, method.cash_on_delivery = fields.needs_address, fields.cash_on_delivery
    await session.flush()
    await audit.record(session, actor, "delivery", f"delivery:{code}", before, _fields(method))
    return before is None


async def set_active(session: AsyncSession, actor: AccountRef, code: str, active: bool) -> None:
    method = await session.scalar(select(DeliveryMethod).where(DeliveryMethod.code == code))
    if method is None:
        raise ShopError("delivery_unknown", method=code)
    before = method.active
    method.active = active
    await session.flush()
    await audit.record(
        session, actor, "delivery", f"delivery:{code}", {"active": before}, {"active": active}
    )
