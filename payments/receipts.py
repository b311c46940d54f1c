"""The shop's neutral 54-FZ receipt written for YooKassa: as the SDK's own models (payments
and refunds), and as its JSON (which Telegram's YooKassa provider reads from an invoice's
``provider_data``)."""

from __future__ import annotations

from typing import Any

from yookassa.domain.models import Receipt as SdkReceipt
from yookassa.domain.models import ReceiptItem

from shop.billing.receipts import CURRENCY, Receipt

FULL_PAYMENT = "full_payment"
"""Payment is taken in full when the order is placed (capture at once): "полный расчёт"."""


def rubles(kopecks: int) -> str:
    """``12345`` -> ``"123.45"``, the way YooKassa writes amounts."""
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def sdk_receipt(receipt: Receipt, vat_code: int, tax_system_code: int | None = None) -> SdkReceipt:
    """Every line with its VAT code; the lines add up to what is charged or given back.

    ``vat_code`` 1 is "без НДС"; ``tax_system_code`` only when the shop has several systems.
    """
    items = []
    for line in receipt.lines:
        item = ReceiptItem()
        item.description = line.description
        item.quantity = line.quantity
        item.amount = {"value": rubles(line.unit_price), "currency": CURRENCY}
        item.vat_code = vat_code
        item.payment_mode = FULL_PAYMENT
        item.payment_subject = line.subject
        items.append(item)
    built = SdkReceipt()
    customer = {"phone": receipt.phone, "email": receipt.email}
    if any(customer.values()):
        built.customer = {key: value for key, value in customer.items() if value}
    built.items = items
    if tax_system_code is not None:
        built.tax_system_code = tax_system_code
    return built


def receipt_json(receipt: Receipt, vat_code: int = 1) -> dict[str, Any]:
    """The receipt in YooKassa's JSON shape; ``vat_code`` 1 is "без НДС"."""
    body: dict[str, Any] = {
        "items": [
            {
                "description": line.description,
                "quantity": f"{line.quantity}.00",
                "amount": {"value": rubles(line.unit_price), "currency": CURRENCY},
                "vat_code": vat_code,
                "payment_mode": FULL_PAYMENT,
                "payment_subject": line.subject,
            }
            for line in receipt.lines
        ]
    }
    customer = {"phone": receipt.phone, "email": receipt.email}
    if any(customer.values()):
        body["customer"] = {key: value for key, value in customer.items() if value}
    return body
