"""The API's write operations: turn a validated request body into a new or changed record."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from tests.emulators.yookassa.errors import invalid_request
from tests.emulators.yookassa.receipts import check_receipt
from tests.emulators.yookassa.state import PaymentRecord, RefundRecord, Shop, object_id
from tests.emulators.yookassa.validation import (
    check_confirmation,
    check_description,
    check_metadata,
    parse_amount,
    require_object,
)

REFUND_DESCRIPTION_LIMIT = 250


def create_payment(
    shop: Shop,
    body: Any,
    *,
    now: datetime,
    checkout_url: Callable[[str], str],
    require_receipt: bool,
) -> PaymentRecord:
    body = require_object(body, "body")
    amount = parse_amount(body.get("amount"), "amount")
    capture = body.get("capture", False)
    if not isinstance(capture, bool):
        raise invalid_request("capture must be true or false", "capture")
    receipt = _receipt_for(body.get("receipt"), amount, require_receipt)
    method_data = body.get("payment_method_data")
    if method_data is not None and not (
        isinstance(method_data, dict) and isinstance(method_data.get("type"), str)
    ):
        raise invalid_request("payment_method_data.type is missing", "payment_method_data.type")
    payment_id = object_id("000f")
    confirmation = check_confirmation(body.get("confirmation"))
    if confirmation["type"] == "redirect":
        confirmation["confirmation_url"] = checkout_url(payment_id)
    elif confirmation["type"] == "embedded":
        confirmation["confirmation_token"] = "ct-" + payment_id
    record = PaymentRecord(
        id=payment_id,
        shop=shop,
        amount=amount,
        capture=capture,
        confirmation=confirmation,
        created_at=now,
        description=check_description(body.get("description")),
        metadata=check_metadata(body.get("metadata")),
        receipt=receipt,
        method_type=method_data["type"] if method_data else None,
    )
    if method_data:
        record.payment_method = {"type": method_data["type"], "id": payment_id, "saved": False}
    return record


def capture_payment(
    record: PaymentRecord, body: Any, *, now: datetime, require_receipt: bool
) -> None:
    """Capture all or part of a held payment; a partial capture needs its own receipt."""
    body = require_object(body, "body")
    if record.status != "waiting_for_capture":
        raise invalid_request(
            f"Payment {record.id} has status {record.status}: only a payment "
            "waiting_for_capture can be captured",
            "payment_id",
        )
    amount = record.amount
    if body.get("amount") is not None:
        amount = parse_amount(body["amount"], "amount")
        if amount > record.amount:
            raise invalid_request("amount is more than the payment holds", "amount.value")
    if body.get("receipt") is not None:
        record.receipt = check_receipt(body["receipt"], amount)
    elif amount != record.amount and record.receipt is not None and require_receipt:
        raise invalid_request("A partial capture needs a receipt for the new amount", "receipt")
    record.mark_captured(now, amount)


def cancel_payment(record: PaymentRecord) -> None:
    if record.status != "waiting_for_capture":
        raise invalid_request(
            f"Payment {record.id} has status {record.status}: only a payment "
            "waiting_for_capture can be canceled",
            "payment_id",
        )
    record.mark_canceled("canceled_by_merchant", "merchant")


def create_refund(
    payment: PaymentRecord, body: dict[str, Any], *, now: datetime, require_receipt: bool
) -> RefundRecord:
    """Refund part or all of what is left of a succeeded payment."""
    if payment.status != "succeeded":
        raise invalid_request(
            f"Payment {payment.id} has status {payment.status}: only a succeeded payment "
            "can be refunded",
            "payment_id",
        )
    amount = parse_amount(body.get("amount"), "amount")
    if amount > payment.refundable_amount:
        raise invalid_request(
            f"Refund amount {amount} is more than what is left to refund "
            f"({payment.refundable_amount})",
            "amount.value",
        )
    description = check_description(body.get("description"), limit=REFUND_DESCRIPTION_LIMIT)
    receipt = _receipt_for(
        body.get("receipt"), amount, require_receipt and payment.receipt is not None
    )
    refund = RefundRecord(
        id=object_id("0015"),
        payment_id=payment.id,
        amount=amount,
        created_at=now,
        description=description,
        receipt=receipt,
        metadata=check_metadata(body.get("metadata")),
    )
    payment.refunded_amount += amount
    return refund


def _receipt_for(receipt: Any, amount: Decimal, required: bool) -> dict[str, Any] | None:
    if receipt is None:
        if required:
            raise invalid_request(
                "Receipt is missing: this shop sends 54-FZ receipts through YooKassa", "receipt"
            )
        return None
    return check_receipt(receipt, amount)


def new_secret_key() -> str:
    return "test_" + secrets.token_urlsafe(32)
