"""What the emulator remembers about shops, payments and refunds, and how a payment moves on."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.emulators.yookassa.validation import format_amount

CAPTURE_WINDOW = timedelta(days=7)
# Who cancels a payment depends on why, as in the real cancellation_details.
_PARTY_BY_REASON = {
    "canceled_by_merchant": "merchant",
    "expired_on_confirmation": "yoo_money",
    "expired_on_capture": "yoo_money",
    "fraud_suspected": "yoo_money",
    "payment_method_restricted": "yoo_money",
    "internal_timeout": "yoo_money",
}


def iso(moment: datetime) -> str:
    """UTC with milliseconds and a Z, the way the API writes times."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def object_id(kind: str) -> str:
    """An id shaped like YooKassa's: a UUID whose middle groups carry the object kind."""
    tail = uuid.uuid4().hex
    return f"{tail[:8]}-{kind}-5000-{'8' + tail[8:11]}-{tail[11:23]}"


def party_for(reason: str) -> str:
    return _PARTY_BY_REASON.get(reason, "payment_network")


@dataclass
class Shop:
    shop_id: str
    secret_key: str
    gateway_id: str = field(default_factory=lambda: str(secrets.randbelow(900000) + 100000))


@dataclass
class RefundRecord:
    id: str
    payment_id: str
    amount: Decimal
    created_at: datetime
    description: str | None = None
    receipt: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    status: str = "succeeded"

    def as_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "payment_id": self.payment_id,
            "status": self.status,
            "created_at": iso(self.created_at),
            "amount": format_amount(self.amount),
        }
        if self.description is not None:
            body["description"] = self.description
        if self.receipt is not None:
            body["receipt_registration"] = "succeeded"
        if self.metadata is not None:
            body["metadata"] = dict(self.metadata)
        return body


@dataclass
class PaymentRecord:
    """One payment; `as_api()` is the Payment object the API and notifications show."""

    id: str
    shop: Shop
    amount: Decimal
    capture: bool
    confirmation: dict[str, Any]
    created_at: datetime
    description: str | None = None
    metadata: dict[str, str] | None = None
    receipt: dict[str, Any] | None = None
    method_type: str | None = None
    status: str = "pending"
    payment_method: dict[str, Any] | None = None
    captured_at: datetime | None = None
    expires_at: datetime | None = None
    cancellation_details: dict[str, str] | None = None
    refunded_amount: Decimal = Decimal(0)
    commission: Decimal = Decimal("0.035")

    @property
    def paid(self) -> bool:
        return self.status in ("waiting_for_capture", "succeeded")

    @property
    def refundable_amount(self) -> Decimal:
        return self.amount - self.refunded_amount if self.status == "succeeded" else Decimal(0)

    def mark_paid(self, now: datetime, method_type: str | None = None) -> None:
        """The shopper paid: captured at once, or held for the merchant to capture."""
        self.payment_method = _payment_method(self.id, method_type or self.method_type)
        if self.capture:
            self.status = "succeeded"
            self.captured_at = now
        else:
            self.status = "waiting_for_capture"
            self.expires_at = now + CAPTURE_WINDOW

    def mark_captured(self, now: datetime, amount: Decimal | None = None) -> None:
        if amount is not None:
            self.amount = amount
        self.status = "succeeded"
        self.captured_at = now
        self.expires_at = None

    def mark_canceled(self, reason: str, party: str | None = None) -> None:
        self.status = "canceled"
        self.expires_at = None
        self.cancellation_details = {"party": party or party_for(reason), "reason": reason}

    def as_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "paid": self.paid,
            "amount": format_amount(self.amount),
            "recipient": {"account_id": self.shop.shop_id, "gateway_id": self.shop.gateway_id},
            "created_at": iso(self.created_at),
            "test": True,
            "refundable": self.refundable_amount > 0,
        }
        if self.paid:
            income = (self.amount * (1 - self.commission)).quantize(Decimal("0.01"))
            body["income_amount"] = format_amount(income)
        if self.description is not None:
            body["description"] = self.description
        if self.status == "pending":
            body["confirmation"] = dict(self.confirmation)
        if self.payment_method is not None:
            body["payment_method"] = dict(self.payment_method)
        if self.captured_at is not None:
            body["captured_at"] = iso(self.captured_at)
        if self.expires_at is not None:
            body["expires_at"] = iso(self.expires_at)
        if self.paid:
            body["authorization_details"] = {
                "rrn": "603668680243",
                "auth_code": "000000",
                "three_d_secure": {"applied": False},
            }
        if self.refunded_amount > 0:
            body["refunded_amount"] = format_amount(self.refunded_amount)
        if self.receipt is not None:
            body["receipt_registration"] = "succeeded" if self.status == "succeeded" else "pending"
        if self.metadata is not None:
            body["metadata"] = dict(self.metadata)
        if self.cancellation_details is not None:
            body["cancellation_details"] = dict(self.cancellation_details)
        return body


def _payment_method(payment_id: str, method_type: str | None) -> dict[str, Any]:
    kind = method_type or "bank_card"
    method: dict[str, Any] = {"type": kind, "id": payment_id, "saved": False, "status": "inactive"}
    if kind == "bank_card":
        method["title"] = "Bank card *4444"
        method["card"] = {
            "first6": "555555",
            "last4": "4444",
            "expiry_month": "12",
            "expiry_year": "2030",
            "card_type": "MasterCard",
            "issuer_country": "RU",
        }
    return method
