"""Small builders for core tests: customers, a one-product shop, placing orders."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop.accounts import AccountRef, Channel
from shop.cart import add_to_cart
from shop.checkout import Contact, PlacedOrder, place_order
from shop.customers import get_or_create_customer
from shop.models import Category, DeliveryMethod, Product, Variant

CONTACT = Contact(name="Алиса", phone="+79001234567", address="Москва, Тверская, 1")


async def new_customer(sessions: async_sessionmaker[AsyncSession], external_id: int) -> int:
    async with sessions() as session, session.begin():
        customer = await get_or_create_customer(
            session, AccountRef(Channel.TELEGRAM, external_id), display_name=f"user{external_id}"
        )
        return customer.id


async def small_shop(
    sessions: async_sessionmaker[AsyncSession], stocks: list[int], price: int = 10_000
) -> list[int]:
    """A category with one product whose variants have ``stocks``; returns the variant ids."""
    async with sessions() as session, session.begin():
        category = Category(title="Тест")
        product = Product(title="Товар", category=category)
        product.variants = [
            Variant(sku=f"T-{i}", size=str(i), price=price, stock=stock)
            for i, stock in enumerate(stocks)
        ]
        session.add_all([category, product, DeliveryMethod(code="pickup", title="Самовывоз")])
        await session.flush()
        return [variant.id for variant in product.variants]


async def pickup_id(session: AsyncSession) -> int:
    return (
        await session.execute(select(DeliveryMethod.id).where(DeliveryMethod.code == "pickup"))
    ).scalar_one()


async def fill_cart(
    sessions: async_sessionmaker[AsyncSession], customer_id: int, lines: dict[int, int]
) -> None:
    async with sessions() as session, session.begin():
        for variant_id, quantity in lines.items():
            await add_to_cart(session, customer_id, variant_id, quantity)


async def checkout(sessions: async_sessionmaker[AsyncSession], customer_id: int) -> PlacedOrder:
    async with sessions() as session, session.begin():
        return await place_order(
            session,
            customer_id,
            channel="telegram",
            delivery_method_id=await pickup_id(session),
            contact=CONTACT,
            reservation_minutes=30,
        )


async def stock_of(sessions: async_sessionmaker[AsyncSession], variant_ids: list[int]) -> list[int]:
    async with sessions() as session:
        rows = await session.execute(
            select(Variant.id, Variant.stock).where(Variant.id.in_(variant_ids))
        )
        stock = dict(rows.all())
    return [stock[vid] for vid in variant_ids]
