"""Payments in the core: the ledger, confirming exactly once, late payments, refunds, cash.

Provider-neutral: a `PaymentGateway` (payments/yookassa.py) is always called outside any
transaction, with an idempotence key stored beforehand; what a provider reports is recorded
in the ledger (shop.models.payments), and only a status read from the provider's API, never
a webhook body, moves an order.

- attempts: `start_payment` (one pending payment per order), `pending_payments` for polling
- settlement: `confirm_payment` / `sync_payment`, late payments after expiry, staff alerts
- lookups: `LookupGate` / `sync_notified`, which notified ids are re-read from the API, and when
- refunds: `refund_order` (whole or by lines), `sync_refund`, `run_queued_refunds`
- telegram: `invoice_for`, `check_pre_checkout`, `record_telegram_payment`
- cash: `choose_cash_on_delivery`
- receipts: the 54-FZ receipt built from an order's snapshot lines
"""

from shop.billing.attempts import pending_payments, start_payment
from shop.billing.cash import choose_cash_on_delivery
from shop.billing.gateway import (
    GatewayError,
    PaymentGateway,
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundRequest,
)
from shop.billing.ledger import STAFF, SYSTEM, payments_of
from shop.billing.lookups import LookupGate, Verdict, classify, sync_notified
from shop.billing.receipts import (
    Receipt,
    ReceiptLine,
    receipt_for,
    receipt_json,
    receipt_phone,
    rubles,
)
from shop.billing.refunds import (
    RefundResult,
    execute_refund,
    pending_refunds,
    refund_order,
    run_queued_refunds,
    sync_refund,
)
from shop.billing.settlement import Outcome, Settlement, confirm_payment, sync_payment
from shop.billing.telegram import (
    TelegramInvoice,
    check_pre_checkout,
    invoice_for,
    order_id_from_payload,
    record_telegram_payment,
)

__all__ = [
    "STAFF",
    "SYSTEM",
    "GatewayError",
    "LookupGate",
    "Outcome",
    "PaymentGateway",
    "PaymentRequest",
    "ProviderPayment",
    "ProviderRefund",
    "Receipt",
    "ReceiptLine",
    "RefundRequest",
    "RefundResult",
    "Settlement",
    "TelegramInvoice",
    "Verdict",
    "check_pre_checkout",
    "choose_cash_on_delivery",
    "classify",
    "confirm_payment",
    "execute_refund",
    "invoice_for",
    "order_id_from_payload",
    "payments_of",
    "pending_payments",
    "pending_refunds",
    "receipt_for",
    "receipt_json",
    "receipt_phone",
    "record_telegram_payment",
    "refund_order",
    "rubles",
    "run_queued_refunds",
    "start_payment",
    "sync_notified",
    "sync_payment",
    "sync_refund",
]
