"""Refunds in the core: whole or by lines, through the gateway with a stored key, once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from shop.billing import (
    pending_refunds,
    refund_order,
    sync_payment,
    sync_refund,
)
from shop.errors import ShopError
from shop.models import (
    OrderStatus,
    Refund,
    RefundStatus,
)
from shop.orders import get_order
from tests.core.helpers import stock_of
from tests.core.payment_helpers import (
    ledger_rows,
    order_moves,
    order_status,
    outbox_rows,
    pay_at_gateway,
    place_test_order,
    refund_rows,
)

S = OrderStatus


async def _paid_order(sessions, gateway, stocks=(5, 5), quantities=(2, 1)):
    placed, customer, variants = await place_test_order(sessions, stocks, quantities)
    payment_id = await pay_at_gateway(sessions, gateway, placed, customer)
    await sync_payment(sessions, gateway, payment_id, "webhook")
    async with sessions() as session:
        order = await get_order(session, placed.id)
    return order, variants, payment_id


async def test_a_full_refund_updates_ledger_order_and_tells_the_customer(sessions, gateway):
    order, variants, _ = await _paid_order(sessions, gateway)

    result = await refund_order(sessions, gateway, order.id, "staff:telegram:9")

    assert (result.amount, result.status, result.order_status) == (
        order.total,
        "succeeded",
        S.REFUNDED,
    )
    (refund,) = await refund_rows(sessions)
    assert (refund.actor, refund.provider_refund_id) == ("staff:telegram:9", "ref-2")
    assert gateway.keys[-1] == refund.idempotence_key
    (payment,) = await ledger_rows(sessions)
    assert payment.refunded_amount == order.total
    assert (await order_moves(sessions, order.id))[-1][:2] == ("paid", "refunded")
    assert (await outbox_rows(sessions))[-1][2]["status"] == "refunded"
    assert await stock_of(sessions, variants) == [5, 5]
    with pytest.raises(ShopError) as again:
        await refund_order(sessions, gateway, order.id, "staff:telegram:9")
    assert again.value.code == "not_refundable"


async def test_refund_by_lines_then_the_rest(sessions, gateway):
    order, _, _ = await _paid_order(sessions, gateway)
    first_line, second_line = order.lines

    part = await refund_order(sessions, gateway, order.id, "staff:1", {first_line.id: 1})
    with pytest.raises(ShopError) as too_much:
        await refund_order(sessions, gateway, order.id, "staff:1", {first_line.id: 2})
    rest = await refund_order(sessions, gateway, order.id, "staff:1")

    assert (part.amount, part.order_status) == (first_line.price, S.PAID)
    assert too_much.value.code == "refund_too_much"
    assert (rest.amount, rest.order_status) == (order.total - first_line.price, S.REFUNDED)
    first, second = await refund_rows(sessions)
    assert first.lines == {str(first_line.id): 1}
    assert second.lines == {str(first_line.id): 1, str(second_line.id): 1}
    kinds = [(k, p.get("amount"), p.get("status")) for _, k, p in await outbox_rows(sessions)]
    assert kinds[-2:] == [("refund", first_line.price, None), ("order_status", None, "refunded")]


async def test_an_unpaid_order_cannot_be_refunded(sessions, gateway):
    placed, _, _ = await place_test_order(sessions)
    with pytest.raises(ShopError) as error:
        await refund_order(sessions, gateway, placed.id, "staff:1")
    assert error.value.code == "not_refundable"


async def test_a_pending_refund_settles_when_its_notification_is_synced(sessions, gateway):
    order, _, _ = await _paid_order(sessions, gateway)
    gateway.refund_status = "pending"
    result = await refund_order(sessions, gateway, order.id, "staff:1")
    assert (result.status, result.order_status) == ("pending", S.PAID)
    async with sessions() as session:
        (provider_refund_id,) = await pending_refunds(session)

    gateway.refunds[provider_refund_id] = replace(
        gateway.refunds[provider_refund_id], status="succeeded"
    )
    statuses = [
        await sync_refund(sessions, gateway, provider_refund_id, "webhook") for _ in range(3)
    ]

    assert statuses == [RefundStatus.SUCCEEDED] * 3
    assert await order_status(sessions, order.id) == S.REFUNDED
    (payment,) = await ledger_rows(sessions)
    assert payment.refunded_amount == order.total
    assert await sync_refund(sessions, gateway, "forged", "webhook") is None


async def test_concurrent_full_refunds_give_the_money_back_once(sessions, gateway):
    order, _, _ = await _paid_order(sessions, gateway)

    results = await asyncio.gather(
        *[refund_order(sessions, gateway, order.id, "staff:1") for _ in range(3)],
        return_exceptions=True,
    )

    done = [r for r in results if not isinstance(r, BaseException)]
    assert [r.amount for r in done] == [order.total]
    assert all(isinstance(r, ShopError) for r in results if r not in done)
    async with sessions() as session:
        total = await session.scalar(select(func.sum(Refund.amount)))
    assert total == order.total
