"""A fake payment provider and readers of the ledger, for the core payment tests.

The fake keeps payments by idempotence key, as YooKassa does; handler tests may use it too.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import select

from shop.billing import (
    GatewayError,
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundRequest,
    start_payment,
)
from shop.cards import CARD
from shop.models import (
    Order,
    OrderEvent,
    OrderStatus,
    OutboxMessage,
    Payment,
    PaymentProvider,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from shop.models.types import utcnow
from shop.reservations import expire_unpaid_orders
from tests.core.helpers import checkout, fill_cart, new_customer, small_shop

T = TypeVar("T")
RETURN_URL = "https://t.me/demo_shop_bot"
YK = PaymentProvider.YOOKASSA


class FakeGateway:
    """A provider that keeps payments by idempotence key, as YooKassa does.

    ``lose_answers`` makes the next calls do their work and then fail as a timeout would;
    ``refuse`` makes the next create fail for good; ``before_create`` runs at the moment of
    the API call, to look at the database from outside.
    """

    provider = YK

    def __init__(self) -> None:
        self.payments: dict[str, ProviderPayment] = {}
        self.refunds: dict[str, ProviderRefund] = {}
        self.by_key: dict[str, str] = {}
        self.keys: list[str] = []
        self.lose_answers = 0
        self.refuse = False
        self.refund_status = RefundStatus.SUCCEEDED
        self.before_create: Callable[[PaymentRequest], Awaitable[None]] | None = None
        self.ids = itertools.count(1)

    async def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        self.keys.append(request.idempotence_key)
        if self.before_create is not None:
            await self.before_create(request)
        if self.refuse:
            self.refuse = False
            raise GatewayError("invalid_request", retryable=False)
        assert request.receipt.total == request.amount
        if request.idempotence_key not in self.by_key:
            payment_id = f"pay-{next(self.ids)}"
            self.by_key[request.idempotence_key] = payment_id
            self.payments[payment_id] = ProviderPayment(
                id=payment_id,
                status=PaymentStatus.PENDING,
                amount=request.amount,
                confirmation_url=f"https://pay.example/{payment_id}",
                order_id=request.order_id,
                attempt_id=request.attempt_id,
            )
        return self._answer(self.payments[self.by_key[request.idempotence_key]])

    async def get_payment(self, payment_id: str) -> ProviderPayment | None:
        return self.payments.get(payment_id)

    async def create_refund(self, request: RefundRequest) -> ProviderRefund:
        self.keys.append(request.idempotence_key)
        assert request.receipt is not None and request.receipt.total == request.amount
        if request.idempotence_key not in self.by_key:
            refund_id = f"ref-{next(self.ids)}"
            self.by_key[request.idempotence_key] = refund_id
            self.refunds[refund_id] = ProviderRefund(
                refund_id,
                request.provider_payment_id,
                self.refund_status,
                request.amount,
                request.refund_id,
            )
        return self._answer(self.refunds[self.by_key[request.idempotence_key]])

    async def get_refund(self, refund_id: str) -> ProviderRefund | None:
        return self.refunds.get(refund_id)

    def pay(self, payment_id: str, status: str = "succeeded") -> None:
        self.payments[payment_id] = replace(self.payments[payment_id], status=PaymentStatus(status))

    def _answer(self, answer: T) -> T:
        if self.lose_answers:
            self.lose_answers -= 1
            raise GatewayError("timeout", retryable=True)
        return answer


async def place_test_order(sessions, stocks=(5,), quantities=(2,), external_id=1):
    variants = await small_shop(sessions, list(stocks))
    customer = await new_customer(sessions, external_id)
    await fill_cart(sessions, customer, dict(zip(variants, quantities, strict=False)))
    placed = await checkout(sessions, customer)
    return placed, customer, variants


async def pay_at_gateway(sessions, gateway, placed, customer) -> str:
    await start_payment(sessions, gateway, placed.id, customer, RETURN_URL)
    (payment_id,) = gateway.payments
    gateway.pay(payment_id)
    return payment_id


async def order_status(sessions, order_id: int) -> OrderStatus:
    async with sessions() as session:
        return OrderStatus(await session.scalar(select(Order.status).where(Order.id == order_id)))


async def order_moves(sessions, order_id: int) -> list[tuple[str | None, str, str | None]]:
    async with sessions() as session:
        rows = await session.execute(
            select(OrderEvent.from_status, OrderEvent.to_status, OrderEvent.kind)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.id)
        )
        return [tuple(row) for row in rows]


async def outbox_rows(sessions) -> list[tuple[str, str, dict]]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.recipient, OutboxMessage.kind, OutboxMessage.payload)
            .where(OutboxMessage.kind != CARD)  # staff cards: tests/core/test_desk.py
            .order_by(OutboxMessage.id)
        )
        return [tuple(row) for row in rows]


async def ledger_rows(sessions) -> list[Payment]:
    async with sessions() as session:
        return list((await session.execute(select(Payment).order_by(Payment.id))).scalars())


async def refund_rows(sessions) -> list[Refund]:
    async with sessions() as session:
        return list((await session.execute(select(Refund).order_by(Refund.id))).scalars())


async def expire_all(sessions) -> None:
    assert await expire_unpaid_orders(sessions, now=utcnow() + timedelta(hours=1))
