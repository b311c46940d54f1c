"""What the core asks of a payment provider, in plain dataclasses (no SDK types).

Statuses are the core's own (PaymentStatus, RefundStatus): each gateway maps its provider's
onto them in payments/, and None means a status the core does not know (recorded nowhere).
payments/yookassa.py implements it with the official SDK; tests use a small fake.
`Gateways` holds one gateway per provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from shop.billing.receipts import Receipt
from shop.models import PaymentProvider, PaymentStatus, RefundStatus


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
    status: PaymentStatus | None
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
    status: RefundStatus | None
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


REFUNDED_THROUGH: Mapping[PaymentProvider, PaymentProvider] = {
    PaymentProvider.TELEGRAM: PaymentProvider.YOOKASSA,
}
"""Providers whose money another provider gives back: a Telegram payment here is taken by
YooKassa (the invoice's provider token is YooKassa's), so YooKassa refunds it."""


def refund_provider(provider: PaymentProvider) -> PaymentProvider:
    """The provider that gives back money taken through ``provider``."""
    return REFUNDED_THROUGH.get(provider, provider)


class Gateways(Mapping[PaymentProvider, PaymentGateway]):
    """One gateway per provider, built once where the process starts."""

    def __init__(self, gateways: Iterable[PaymentGateway] = ()) -> None:
        self._by_provider: dict[PaymentProvider, PaymentGateway] = {}
        for gateway in gateways:
            if gateway.provider in self._by_provider:
                raise ValueError(f"two gateways for {gateway.provider}")
            self._by_provider[PaymentProvider(gateway.provider)] = gateway

    def __getitem__(self, provider: PaymentProvider) -> PaymentGateway:
        return self._by_provider[provider]

    def __iter__(self) -> Iterator[PaymentProvider]:
        return iter(self._by_provider)

    def __len__(self) -> int:
        return len(self._by_provider)

    def for_refunds_of(self, provider: PaymentProvider) -> PaymentGateway | None:
        """The gateway that gives back money taken through ``provider``, if there is one."""
        return self._by_provider.get(refund_provider(provider))
