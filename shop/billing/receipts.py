"""Fiscal receipts (54-FZ): what a payment or refund receipt lists, built from order snapshots.

Provider-neutral data; `receipt_json` writes it in YooKassa's shape, which is also what
Telegram's YooKassa provider reads from an invoice's ``provider_data``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shop.models import Order

CURRENCY = "RUB"
DELIVERY = "delivery"
"""The delivery line's key in a quantities map (the other keys are order line ids)."""
DESCRIPTION_LIMIT = 128


@dataclass(frozen=True)
class ReceiptLine:
    description: str
    quantity: int
    unit_price: int
    subject: str = "commodity"

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Receipt:
    """What the fiscal receipt lists; its lines always add up to the amount charged."""

    phone: str | None
    lines: tuple[ReceiptLine, ...]
    email: str | None = None
    """The shopper's e-mail for the receipt, when given at checkout (a receipt needs one of
    phone and e-mail; with both, the fiscal service may send it to either)."""

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


def receipt_phone(phone: str | None) -> str | None:
    """The phone as the fiscal service wants it (digits, 7XXXXXXXXXX), or None if unusable."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    elif len(digits) == 10 and digits[0] == "9":
        digits = "7" + digits
    return digits if 10 <= len(digits) <= 15 else None


def receipt_for(order: Order, quantities: dict[str, int] | None = None) -> Receipt:
    """The receipt for the whole order, or for ``quantities`` (line id or ``delivery`` -> qty).

    ``order.lines`` must be loaded.
    """
    lines = [
        ReceiptLine(line.title[:DESCRIPTION_LIMIT], qty, line.price)
        for line in order.lines
        if (qty := line.quantity if quantities is None else quantities.get(str(line.id), 0))
    ]
    with_delivery = quantities is None or quantities.get(DELIVERY)
    if with_delivery and order.delivery_price:
        title = order.delivery_title[:DESCRIPTION_LIMIT]
        lines.append(ReceiptLine(title, 1, order.delivery_price, "service"))
    return Receipt(receipt_phone(order.phone), tuple(lines), email=order.email or None)


def rubles(kopecks: int) -> str:
    """``12345`` -> ``"123.45"``, the way payment APIs write amounts."""
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def receipt_json(receipt: Receipt, vat_code: int = 1) -> dict[str, Any]:
    """The receipt in YooKassa's JSON shape; ``vat_code`` 1 is "без НДС"."""
    body: dict[str, Any] = {
        "items": [
            {
                "description": line.description,
                "quantity": f"{line.quantity}.00",
                "amount": {"value": rubles(line.unit_price), "currency": CURRENCY},
                "vat_code": vat_code,
                "payment_mode": "full_payment",
                "payment_subject": line.subject,
            }
            for line in receipt.lines
        ]
    }
    customer = {"phone": receipt.phone, "email": receipt.email}
    if any(customer.values()):
        body["customer"] = {key: value for key, value in customer.items() if value}
    return body
