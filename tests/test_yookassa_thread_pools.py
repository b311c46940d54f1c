"""The YooKassa gateway's blocking SDK calls: lookups (anyone can cause them with a forged
notification) run in their own small pool, so they never hold back creating a payment."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest

from payments.yookassa import YooKassaGateway
from shop.billing import PaymentRequest, Receipt, ReceiptLine
from tests.e2e.conftest import eventually
from tests.emulators.yookassa import YooKassaEmulator

REQUEST = PaymentRequest(
    1,
    1,
    10_000,
    "Заказ №1",
    "https://t.me/demo_shop_bot",
    Receipt("79001234567", (ReceiptLine("Товар", 1, 10_000),)),
    "order-1-try-1",
)


@pytest.fixture
async def emu() -> AsyncIterator[YooKassaEmulator]:
    async with YooKassaEmulator() as emulator:
        yield emulator


async def test_stuck_lookups_do_not_hold_back_a_checkout(emu):
    gateway = YooKassaGateway(*emu.create_shop(), emu.api_url, lookup_threads=2)
    unstuck = threading.Event()
    threads: set[str] = set()

    def stuck_lookup(payment_id: str) -> None:
        threads.add(threading.current_thread().name)
        unstuck.wait(10)

    gateway._payments.find_one = stuck_lookup  # type: ignore[method-assign]
    loop = asyncio.get_running_loop()
    default_pool_busy = [loop.run_in_executor(None, unstuck.wait, 10) for _ in range(40)]
    lookups = [asyncio.create_task(gateway.get_payment(f"forged-{i}")) for i in range(40)]
    await eventually(lambda: len(threads) == 2)  # every lookup thread is stuck now
    try:
        made = await asyncio.wait_for(gateway.create_payment(REQUEST), 5)
    finally:
        unstuck.set()
        await asyncio.gather(*lookups, *default_pool_busy, return_exceptions=True)
        gateway.close()

    assert made.status == "pending" and made.confirmation_url
    assert threads and all(name.startswith("yookassa-lookup") for name in threads)
    assert len(threads) == 2
