"""Payments in the core: the ledger, confirming exactly once, late payments, refunds, cash.

Provider-neutral: a `PaymentGateway` (payments/ holds them, one per provider in `Gateways`)
is always called outside any transaction, with an idempotence key stored beforehand; it
reports in the core's statuses (PaymentStatus, RefundStatus), which are recorded in the
ledger (shop.models.payments); only a status read from the provider's API, never a webhook
body, moves an order.

- gateway: what a gateway is asked (`PaymentGateway`), `Gateways`, who refunds what
- attempts: `start_payment` (one pending payment per order), `pending_payments` for polling
- settlement: `confirm_payment` / `sync_payment`, late payments after expiry
- lookups: `LookupGate` / `sync_notified`, which notified ids are re-read from the API, and when
- refunds: `refund_order` (whole or by lines), `sync_refund`, `run_queued_refunds`
- telegram: `check_pre_checkout`, `record_telegram_payment`, the order an invoice names
- cash: `choose_cash_on_delivery`
- receipts: the neutral 54-FZ receipt built from an order's snapshot lines
- locks, history, alerts: locking an order, ledger history entries, staff alerts
"""

from shop.billing.alerts import STAFF, alert_staff
from shop.billing.attempts import pending_payments, start_payment
from shop.billing.cash import choose_cash_on_delivery
from shop.billing.gateway import (
    GatewayError,
    Gateways,
    PaymentGateway,
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundRequest,
    refund_provider,
)
from shop.billing.history import payments_of
from shop.billing.lookups import LookupGate, Verdict, classify, sync_notified
from shop.billing.receipts import Receipt, ReceiptLine, receipt_for, receipt_phone
from shop.billing.refunds import (
    SYSTEM,
    RefundResult,
    execute_refund,
    pending_refunds,
    refund_order,
    run_queued_refunds,
    sync_refund,
)
from shop.billing.settlement import Outcome, Settlement, confirm_payment, sync_payment
from shop.billing.telegram import (
    check_pre_checkout,
    invoice_payload,
    order_id_from_payload,
    record_telegram_payment,
)
from shop.models import PaymentStatus, RefundStatus

__all__ = [
    "STAFF",
    "SYSTEM",
    "GatewayError",
    "Gateways",
    "LookupGate",
    "Outcome",
    "PaymentGateway",
    "PaymentRequest",
    "PaymentStatus",
    "ProviderPayment",
    "ProviderRefund",
    "Receipt",
    "ReceiptLine",
    "RefundRequest",
    "RefundResult",
    "RefundStatus",
    "Settlement",
    "Verdict",
    "alert_staff",
    "check_pre_checkout",
    "choose_cash_on_delivery",
    "classify",
    "confirm_payment",
    "execute_refund",
    "invoice_payload",
    "order_id_from_payload",
    "payments_of",
    "pending_payments",
    "pending_refunds",
    "receipt_for",
    "receipt_phone",
    "record_telegram_payment",
    "refund_order",
    "refund_provider",
    "run_queued_refunds",
    "start_payment",
    "sync_notified",
    "sync_payment",
    "sync_refund",
]
