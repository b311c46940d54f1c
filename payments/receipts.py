"""The shop's 54-FZ receipt as the yookassa SDK's own models, for payments and refunds."""

from __future__ import annotations

from yookassa.domain.models import Receipt as SdkReceipt
from yookassa.domain.models import ReceiptItem

from shop.billing.receipts import CURRENCY, Receipt, rubles

FULL_PAYMENT = "full_payment"
"""Payment is taken in full when the order is placed (capture at once): "полный расчёт"."""


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
