"""Checkout throughput and contention, on SQLite and PostgreSQL.

    python -m bench.checkout [--orders 1000] [--buyers 1000] [--only sqlite|postgresql]

Prints uncontended orders placed per second (each buyer a different product, 8 at a time) and
the time for N concurrent buyers competing for 10 units, with the count oversold (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

from sqlalchemy import func, select

from bench.common import fresh_database
from shop.accounts import Channel
from shop.cart import add_to_cart
from shop.checkout import Contact, place_order
from shop.db import create_engine, create_session_factory
from shop.errors import OutOfStock
from shop.models import Category, ChannelAccount, Customer, DeliveryMethod, Order, Product, Variant

CONTACT = Contact(name="Покупатель", phone="+79000000000")


async def _setup(sessions, buyers: int, stock_each: int, distinct: bool) -> tuple[list[int], int]:
    """Customers with one cart line each; returns customer ids and the pickup method id."""
    async with sessions() as session, session.begin():
        category = Category(title="Bench")
        count = buyers if distinct else 1
        products = [
            Product(
                title=f"P{i}",
                category=category,
                variants=[Variant(sku=f"B-{i}", price=10_000, stock=stock_each)],
            )
            for i in range(count)
        ]
        method = DeliveryMethod(code="pickup", title="Самовывоз")
        customers = [Customer(display_name=f"b{i}") for i in range(buyers)]
        session.add_all([category, method, *products, *customers])
        await session.flush()
        session.add_all(
            ChannelAccount(customer_id=c.id, channel=Channel.TELEGRAM.value, external_id=i)
            for i, c in enumerate(customers)
        )
        for i, customer in enumerate(customers):
            variant = products[i if distinct else 0].variants[0]
            await add_to_cart(session, customer.id, variant.id, 1)
        return [c.id for c in customers], method.id


async def _buy(sessions, customer_id: int, method_id: int) -> bool:
    try:
        async with sessions() as session, session.begin():
            await place_order(
                session,
                customer_id,
                channel="telegram",
                delivery_method_id=method_id,
                contact=CONTACT,
                reservation_minutes=30,
            )
    except OutOfStock:
        return False
    return True


async def uncontended(kind: str, orders: int, parallel: int = 8) -> float:
    async with fresh_database(kind) as url:
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        customers, method = await _setup(sessions, orders, stock_each=5, distinct=True)
        gate = asyncio.Semaphore(parallel)

        async def one(customer_id: int) -> bool:
            async with gate:
                return await _buy(sessions, customer_id, method)

        started = time.perf_counter()
        results = await asyncio.gather(*(one(c) for c in customers))
        elapsed = time.perf_counter() - started
        await engine.dispose()
    assert all(results)
    return orders / elapsed


async def contended(kind: str, buyers: int, units: int = 10) -> tuple[float, int, int]:
    async with fresh_database(kind) as url:
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        customers, method = await _setup(sessions, buyers, stock_each=units, distinct=False)
        started = time.perf_counter()
        results = await asyncio.gather(*(_buy(sessions, c, method) for c in customers))
        elapsed = time.perf_counter() - started
        async with sessions() as session:
            placed = await session.scalar(select(func.count()).select_from(Order))
            left = await session.scalar(select(Variant.stock))
        await engine.dispose()
    oversold = max(0, sum(results) - units) + (1 if left < 0 else 0)
    assert placed == sum(results)
    return elapsed, sum(results), oversold


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for kind in [args.only] if args.only else ["sqlite", "postgresql"]:
        rate = await uncontended(kind, args.orders)
        elapsed, placed, oversold = await contended(kind, args.buyers)
        print(f"{kind:10} uncontended: {rate:7.0f} orders/s ({args.orders} orders, 8 at a time)")
        print(
            f"{kind:10} contended:   {args.buyers} buyers on 10 units in {elapsed:5.2f} s, "
            f"{placed} orders, {oversold} oversold"
        )


if __name__ == "__main__":
    asyncio.run(main())
