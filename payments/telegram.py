"""Telegram Payments with YooKassa as the provider: the invoice, its receipt as provider_data.

The core keeps the neutral parts (shop.billing.telegram: the order an invoice names, the
pre-checkout re-check, recording the payment); the Telegram front-end sends what
`invoice_for` builds with the provider token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from payments.receipts import receipt_json
from shop.billing.receipts import CURRENCY, receipt_for
from shop.billing.telegram import invoice_payload
from shop.models import Order


@dataclass(frozen=True)
class TelegramInvoice:
    """What ``sendInvoice`` needs; ``prices`` add up to the order total, in kopecks.

    When ``needs_phone`` is set the order has no phone usable for the receipt: ask for one
    (``need_phone_number`` and ``send_phone_number_to_provider``).
    """

    title: str
    description: str
    payload: str
    currency: str
    prices: list[tuple[str, int]]
    provider_data: str
    needs_phone: bool


def invoice_for(order: Order, vat_code: int = 1) -> TelegramInvoice:
    """The invoice for an order (``order.lines`` loaded), with its 54-FZ receipt."""
    receipt = receipt_for(order)
    prices = [(f"{line.description[:48]} × {line.quantity}", line.amount) for line in receipt.lines]
    titles = ", ".join(line.title for line in order.lines)
    return TelegramInvoice(
        title=f"Заказ №{order.id}",
        description=(titles[:252] + "...") if len(titles) > 255 else titles or f"№{order.id}",
        payload=invoice_payload(order.id),
        currency=CURRENCY,
        prices=prices,
        provider_data=json.dumps({"receipt": receipt_json(receipt, vat_code)}, ensure_ascii=False),
        needs_phone=receipt.phone is None,
    )
