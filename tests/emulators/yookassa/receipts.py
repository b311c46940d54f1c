"""54-FZ receipt checks: who gets the receipt, what each line is, and that lines add up."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from tests.emulators.yookassa.errors import invalid_request
from tests.emulators.yookassa.validation import parse_amount

ITEMS_LIMIT = 100
ITEM_DESCRIPTION_LIMIT = 128
# 1 no VAT, 2 0%, 3 10%, 4 20%, 5 10/110, 6 20/120; 7..12 are the 5%, 7% and 22% rates of 2025-26.
VAT_CODES = range(1, 13)
TAX_SYSTEM_CODES = range(1, 7)
PAYMENT_SUBJECTS = frozenset(
    [
        "commodity",
        "excise",
        "job",
        "service",
        "gambling_bet",
        "gambling_prize",
        "lottery",
        "lottery_prize",
        "intellectual_activity",
        "payment",
        "agent_commission",
        "composite",
        "another",
        "property_right",
        "non_operating_gain",
        "insurance_premium",
        "sales_tax",
        "resort_fee",
        "fine",
        "tax",
        "lien",
        "cost",
        "pension_insurance_without_payouts",
        "pension_insurance_with_payouts",
        "health_insurance_without_payouts",
        "health_insurance_with_payouts",
        "health_insurance",
        "casino",
        "agent_withdrawals",
        "non_marked_excise",
        "marked_excise",
        "marked",
        "non_marked",
    ]
)
PAYMENT_MODES = frozenset(
    [
        "full_prepayment",
        "partial_prepayment",
        "advance",
        "full_payment",
        "partial_payment",
        "credit",
        "credit_payment",
    ]
)

_PHONE = re.compile(r"^\+?\d{10,15}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_QUANTITY = re.compile(r"^\d{1,9}(\.\d{1,3})?$")
_CENT = Decimal("0.01")


def check_receipt(receipt: Any, total: Decimal, parameter: str = "receipt") -> dict[str, Any]:
    """Refuse a receipt the fiscal service would refuse; its lines must sum to `total`."""
    if not isinstance(receipt, dict):
        raise invalid_request(f"{parameter} must be an object", parameter)
    _check_customer(receipt, parameter)
    tax_system = receipt.get("tax_system_code")
    if tax_system is not None and (
        isinstance(tax_system, bool)
        or not isinstance(tax_system, int)
        or tax_system not in TAX_SYSTEM_CODES
    ):
        raise invalid_request(
            f"{parameter}.tax_system_code must be 1..6", f"{parameter}.tax_system_code"
        )
    items = receipt.get("items")
    if not isinstance(items, list) or not items:
        raise invalid_request(f"{parameter}.items is missing or empty", f"{parameter}.items")
    if len(items) > ITEMS_LIMIT:
        raise invalid_request(
            f"{parameter}.items holds more than {ITEMS_LIMIT} lines", f"{parameter}.items"
        )
    items_sum = sum(
        (_check_item(item, f"{parameter}.items[{index}]") for index, item in enumerate(items)),
        Decimal(0),
    )
    if items_sum != total:
        raise invalid_request(
            f"The sum of {parameter} items ({items_sum}) doesn't match the amount ({total})",
            f"{parameter}.items",
        )
    return receipt


def _check_customer(receipt: dict[str, Any], parameter: str) -> None:
    customer = receipt.get("customer")
    if customer is not None and not isinstance(customer, dict):
        raise invalid_request(f"{parameter}.customer must be an object", f"{parameter}.customer")
    customer = customer or {}
    # The legacy receipt.email / receipt.phone fields are still accepted by the API.
    email = customer.get("email") or receipt.get("email")
    phone = customer.get("phone") or receipt.get("phone")
    if not email and not phone:
        raise invalid_request(
            f"{parameter}.customer needs an email or a phone to send the receipt to",
            f"{parameter}.customer",
        )
    if email and (not isinstance(email, str) or not _EMAIL.match(email)):
        raise invalid_request(
            f"{parameter}.customer.email is not an email", f"{parameter}.customer.email"
        )
    if phone and (not isinstance(phone, str) or not _PHONE.match(phone)):
        raise invalid_request(
            f"{parameter}.customer.phone must be in E.164 format, e.g. 79000000000",
            f"{parameter}.customer.phone",
        )


def _check_item(item: Any, parameter: str) -> Decimal:
    """Return what the line costs: unit price times quantity, rounded to kopecks."""
    if not isinstance(item, dict):
        raise invalid_request(f"{parameter} must be an object", parameter)
    description = item.get("description")
    if not isinstance(description, str) or not description.strip():
        raise invalid_request(f"{parameter}.description is missing", f"{parameter}.description")
    if len(description) > ITEM_DESCRIPTION_LIMIT:
        raise invalid_request(
            f"{parameter}.description is longer than {ITEM_DESCRIPTION_LIMIT} characters",
            f"{parameter}.description",
        )
    quantity = _quantity(item.get("quantity"), f"{parameter}.quantity")
    price = parse_amount(item.get("amount"), f"{parameter}.amount")
    vat_code = item.get("vat_code")
    if isinstance(vat_code, bool) or not isinstance(vat_code, int) or vat_code not in VAT_CODES:
        raise invalid_request(f"{parameter}.vat_code must be 1..12", f"{parameter}.vat_code")
    subject = item.get("payment_subject")
    if subject is not None and subject not in PAYMENT_SUBJECTS:
        raise invalid_request(
            f"{parameter}.payment_subject {subject!r} is unknown", f"{parameter}.payment_subject"
        )
    mode = item.get("payment_mode")
    if mode is not None and mode not in PAYMENT_MODES:
        raise invalid_request(
            f"{parameter}.payment_mode {mode!r} is unknown", f"{parameter}.payment_mode"
        )
    return (price * quantity).quantize(_CENT)


def _quantity(value: Any, parameter: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid_request(f"{parameter} is missing", parameter)
    text = str(value)
    if not _QUANTITY.match(text):
        raise invalid_request(f"{parameter} has a wrong format: {text!r}", parameter)
    try:
        quantity = Decimal(text)
    except InvalidOperation as error:  # pragma: no cover - the regex guards it
        raise invalid_request(f"{parameter} is not a number", parameter) from error
    if quantity <= 0:
        raise invalid_request(f"{parameter} must be positive", parameter)
    return quantity
