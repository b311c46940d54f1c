"""Fiscal receipts (54-FZ): what a payment or refund receipt lists, built from order snapshots.

Provider-neutral data; each gateway in payments/ writes it in its provider's shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shop.discounts import unit_prices
from shop.models import Order, OrderLine

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

    Discounted lines carry their discounted unit prices (shop.discounts), so the whole
    receipt adds up to ``order.total`` exactly. ``order.lines`` must be loaded.
    """
    lines = [
        receipt_line
        for line in order.lines
        if (qty := line.quantity if quantities is None else quantities.get(str(line.id), 0))
        for receipt_line in _line(line, qty)
    ]
    with_delivery = quantities is None or quantities.get(DELIVERY)
    if with_delivery and order.delivery_price:
        title = order.delivery_title[:DESCRIPTION_LIMIT]
        lines.append(ReceiptLine(title, 1, order.delivery_price, "service"))
    return Receipt(receipt_phone(order.phone), tuple(lines), email=order.email or None)


def _line(line: OrderLine, quantity: int) -> list[ReceiptLine]:
    """``quantity`` units of an order line at their discounted unit price.

    Checkout gives every unit of a line the same whole-kopeck discount, so some units (a
    refund) cost exactly their share. A line whose discount does not divide (not made by
    checkout) is listed whole as two receipt lines, and in part at the cheaper unit price,
    so refunds never add up to more than was paid.
    """
    title = line.title[:DESCRIPTION_LIMIT]
    if quantity == line.quantity:
        pairs = unit_prices(line.paid, quantity)
    else:
        pairs = [(quantity, line.paid // line.quantity)]
    return [ReceiptLine(title, qty, unit) for qty, unit in pairs]
