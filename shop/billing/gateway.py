"""What the core asks of a payment provider, in plain dataclasses (no SDK types).

payments/yookassa.py implements it with the official SDK; tests use a small fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shop.billing.receipts import Receipt
from shop.models import PaymentProvider


@dataclass(frozen=True)
class PaymentRequest:
    """One payment to create; ``attempt_id`` (our ledger row) travels in its metadata."""

    order_id: int
    attempt_id: int
    amount: int
    description: str
    return_url: str
    receipt: Receipt
    idempotence_key: str


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider's API shows it; amounts in kopecks."""

    id: str
    status: str
    amount: int
    confirmation_url: str | None = None
    order_id: int | None = None
    attempt_id: int | None = None


@dataclass(frozen=True)
class RefundRequest:
    """One refund to create; ``refund_id`` (our ledger row) travels in its metadata."""

    provider_payment_id: str
    refund_id: int
    amount: int
    description: str
    receipt: Receipt | None
    idempotence_key: str


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    payment_id: str
    status: str
    amount: int
    refund_id: int | None = None


class GatewayError(Exception):
    """The provider refused or could not be asked.

    ``retryable``: the outcome is unknown (timeout, 5xx), so the same request with the same
    idempotence key may be sent again; otherwise it was refused and a retry would be too.
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class PaymentGateway(Protocol):
    """A payment provider's API, reduced to what the shop needs. Calls never block the loop.

    ``get_payment`` and ``get_refund`` return None for an id the provider does not know.
    """

    provider: PaymentProvider

    async def create_payment(self, request: PaymentRequest) -> ProviderPayment: ...

    async def get_payment(self, payment_id: str) -> ProviderPayment | None: ...

    async def create_refund(self, request: RefundRequest) -> ProviderRefund: ...

    async def get_refund(self, refund_id: str) -> ProviderRefund | None: ...
