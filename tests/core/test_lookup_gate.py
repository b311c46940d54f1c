"""Notification lookups: ids in the ledger always, unknown ones capped, so forged floods
cannot delay genuine payments."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update

from shop.billing import LookupGate, Verdict, classify, start_payment, sync_notified
from shop.billing.refunds import refund_order
from shop.errors import ShopError
from shop.models import OrderStatus, Payment, Refund
from shop.models.types import utcnow
from shop.orders import transition
from tests.core.helpers import checkout, fill_cart, new_customer
from tests.core.payment_helpers import (
    RETURN_URL,
    YK,
    FakeGateway,
    ledger_rows,
    order_status,
    pay_at_gateway,
    place_test_order,
)
from tests.e2e.conftest import eventually


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingGateway(FakeGateway):
    """Counts lookups (and the most at once); ``hold`` keeps lookups of listed ids waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.looked_up: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self.hold: set[str] = set()
        self.release = asyncio.Event()

    async def get_payment(self, payment_id):
        self.looked_up.append(payment_id)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0.01)
            if payment_id in self.hold:
                await self.release.wait()
            return await super().get_payment(payment_id)
        finally:
            self.running -= 1


@pytest.fixture
def gateway() -> CountingGateway:
    return CountingGateway()


async def _verdict(sessions, kind, object_id, **kwargs) -> Verdict:
    async with sessions() as session:
        return await classify(session, YK, kind, object_id, **kwargs)


async def _lost_create(sessions, gateway):
    """An order whose payment was made at the provider but whose answer never came back."""
    placed, customer, variants = await place_test_order(sessions)
    gateway.lose_answers = 1
    with pytest.raises(ShopError):
        await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    return placed, variants


async def test_ids_are_classified_by_the_ledger(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    assert await _verdict(sessions, "payment", "forged-1") == Verdict.NOT_OURS
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    assert await _verdict(sessions, "payment", payment_id) == Verdict.KNOWN
    assert await _verdict(sessions, "payment", "forged-1") == Verdict.NOT_OURS
    assert await _verdict(sessions, "payout", payment_id) == Verdict.NOT_OURS

    assert await sync_notified(LookupGate(sessions), gateway, "payment", payment_id) is (
        Verdict.KNOWN
    )
    assert await _verdict(sessions, "payment", payment_id) == Verdict.SETTLED
    assert await order_status(sessions, placed.id) == "paid"


async def test_an_unknown_id_may_be_a_lost_create_while_a_recent_attempt_is_unbound(
    sessions, gateway
):
    await _lost_create(sessions, gateway)
    assert await _verdict(sessions, "payment", "forged-1") == Verdict.MAYBE_OURS
    later = utcnow() + timedelta(days=3)
    assert await _verdict(sessions, "payment", "forged-1", now=later) == Verdict.NOT_OURS
    assert await _verdict(sessions, "refund", "forged-1") == Verdict.NOT_OURS


async def test_a_lost_create_is_bound_and_paid_through_the_gate(sessions, gateway):
    placed, _ = await _lost_create(sessions, gateway)
    gateway.pay("pay-1")

    verdict = await sync_notified(LookupGate(sessions), gateway, "payment", "pay-1")

    assert verdict == Verdict.MAYBE_OURS
    assert await order_status(sessions, placed.id) == "paid"
    (payment,) = await ledger_rows(sessions)
    assert (payment.provider_payment_id, payment.status) == ("pay-1", "succeeded")


async def test_forged_ids_cost_no_lookup_when_nothing_of_ours_is_unbound(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    gate = LookupGate(sessions)

    verdicts = await asyncio.gather(
        *(sync_notified(gate, gateway, "payment", f"forged-{i}") for i in range(40)),
        sync_notified(gate, gateway, "payment", payment_id),
    )

    assert set(verdicts[:40]) == {Verdict.NOT_OURS}
    assert verdicts[40] == Verdict.KNOWN
    assert gateway.looked_up == [payment_id]
    assert await order_status(sessions, placed.id) == "paid"


async def test_a_genuine_notification_is_not_held_behind_a_flood_of_unknown_ids(sessions, gateway):
    _, variants = await _lost_create(sessions, gateway)  # unknown ids may be ours: capped
    customer = await new_customer(sessions, 2)
    await fill_cart(sessions, customer, {variants[0]: 1})
    placed = await checkout(sessions, customer)
    await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    genuine = "pay-2"
    gateway.pay(genuine)
    gateway.hold = {f"forged-{i}" for i in range(40)}  # a forged lookup that never answers
    gate = LookupGate(sessions, unknown_per_minute=5)

    flood = [
        asyncio.create_task(sync_notified(gate, gateway, "payment", f"forged-{i}"))
        for i in range(40)
    ]
    await eventually(lambda: any(pid.startswith("forged") for pid in gateway.looked_up))
    verdict = await asyncio.wait_for(sync_notified(gate, gateway, "payment", genuine), 5)

    assert verdict == Verdict.KNOWN
    assert await order_status(sessions, placed.id) == "paid"
    forged_lookups = [pid for pid in gateway.looked_up if pid.startswith("forged")]
    assert len(forged_lookups) == 1  # one at a time: the rest were refused, not queued
    for _ in range(500):  # the others were refused without waiting: only the held one is left
        if sum(not task.done() for task in flood) == 1:
            break
        await asyncio.sleep(0.01)
    assert sum(not task.done() for task in flood) == 1
    gateway.release.set()
    verdicts = await asyncio.gather(*flood)
    assert verdicts.count(Verdict.MAYBE_OURS) == 1
    assert verdicts.count(Verdict.CAPPED) == 39


async def test_unknown_ids_are_capped_per_minute(sessions, gateway):
    await _lost_create(sessions, gateway)
    clock = Clock()
    gate = LookupGate(sessions, unknown_per_minute=3, clock=clock)

    first = [await sync_notified(gate, gateway, "payment", f"forged-{i}") for i in range(5)]
    clock.now += 59
    still = await sync_notified(gate, gateway, "payment", "forged-5")
    clock.now += 1
    again = await sync_notified(gate, gateway, "payment", "forged-6")

    assert first == [Verdict.MAYBE_OURS] * 3 + [Verdict.CAPPED] * 2
    assert (still, again) == (Verdict.CAPPED, Verdict.MAYBE_OURS)
    assert gateway.looked_up == ["forged-0", "forged-1", "forged-2", "forged-6"]


async def test_replays_of_a_known_id_are_looked_up_one_at_a_time(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    gateway.pay(payment_id, "waiting_for_capture")  # still open after each lookup
    gate = LookupGate(sessions)

    verdicts = await asyncio.gather(
        *(sync_notified(gate, gateway, "payment", payment_id) for _ in range(5))
    )

    assert verdicts == [Verdict.KNOWN] * 5
    assert len(gateway.looked_up) == 5
    assert gateway.most_at_once == 1
    assert gate._in_flight == {}


async def test_refund_notifications_are_gated_by_the_refund_ledger(sessions, gateway):
    placed, customer, _ = await place_test_order(sessions)
    await pay_at_gateway(sessions, gateway, placed, customer)
    await sync_notified(LookupGate(sessions), gateway, "payment", "pay-1")
    gateway.refund_status = "pending"
    async with sessions() as session, session.begin():
        await transition(session, placed.id, OrderStatus.ASSEMBLING, actor="staff")
    await refund_order(sessions, gateway, placed.id, actor="staff")
    (refund_id,) = gateway.refunds

    assert await _verdict(sessions, "refund", refund_id) == Verdict.KNOWN
    assert await _verdict(sessions, "refund", "forged-1") == Verdict.NOT_OURS
    async with sessions() as session, session.begin():
        await session.execute(update(Refund).values(provider_refund_id=None, status="creating"))
    assert await _verdict(sessions, "refund", "forged-1") == Verdict.MAYBE_OURS
    async with sessions() as session, session.begin():
        await session.execute(
            update(Refund).values(provider_refund_id=refund_id, status="succeeded")
        )
        await session.execute(update(Payment).values(status="succeeded"))
    assert await _verdict(sessions, "refund", refund_id) == Verdict.SETTLED
