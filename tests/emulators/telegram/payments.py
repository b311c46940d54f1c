"""Telegram Payments: invoices and the pre-checkout query.

The emulator plays the payment provider: when a person pays, the bot gets a
pre_checkout_query and must answer it within ``precheckout_timeout`` (10 s in
Telegram); only an ok answer leads to the successful_payment message.
"""

from __future__ import annotations

import re
import time
from typing import Any

from .errors import QUERY_TOO_OLD, bad_request
from .messages import post_bot_message, public
from .registry import Ctx, handles

_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _check_invoice(ctx: Ctx) -> int:
    """Telegram's invoice checks; returns the total amount."""
    if not 1 <= len(ctx.get("title")) <= 32:
        raise bad_request("INVOICE_TITLE_INVALID")
    if not 1 <= len(ctx.get("description")) <= 255:
        raise bad_request("INVOICE_DESCRIPTION_INVALID")
    if not 1 <= len(ctx.get("payload").encode()) <= 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    currency = ctx.get("currency")
    if not _CURRENCY_RE.match(currency):
        raise bad_request("CURRENCY_INVALID")
    prices = ctx.get("prices")
    if not prices:
        raise bad_request("prices must be non-empty")
    if currency == "XTR":
        if ctx.get("provider_token") or len(prices) != 1:
            raise bad_request("invoices in Telegram Stars take one price and no provider token")
    elif not ctx.get("provider_token"):
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    total = sum(int(price["amount"]) for price in prices)
    if total <= 0:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    return total


@handles("sendInvoice")
async def send_invoice(ctx: Ctx) -> dict[str, Any]:
    chat = ctx.bot.writable_chat(ctx.get("chat_id"))
    total = _check_invoice(ctx)
    invoice = {
        "title": ctx.get("title"),
        "description": ctx.get("description"),
        "start_parameter": ctx.get("start_parameter", ""),
        "currency": ctx.get("currency"),
        "total_amount": total,
    }
    markup = ctx.get("reply_markup")
    if not markup:
        amount = f"{total / 100:.2f} {ctx.get('currency')}"
        markup = {"inline_keyboard": [[{"text": f"Pay {amount}", "pay": True}]]}
    terms = {
        key: ctx.get(key)
        for key in (
            "payload",
            "provider_data",
            "need_name",
            "need_phone_number",
            "need_email",
            "need_shipping_address",
            "is_flexible",
            "prices",
            "provider_token",
        )
        if ctx.get(key) is not None
    }
    stored = post_bot_message(ctx, chat, {"invoice": invoice}, invoice=terms, markup=markup)
    return public(stored)


@handles("createInvoiceLink")
async def create_invoice_link(ctx: Ctx) -> str:
    _check_invoice(ctx)
    return f"https://t.me/$emulated_invoice_{ctx.bot.user.id}_{len(ctx.world.calls)}"


@handles("answerPreCheckoutQuery")
async def answer_pre_checkout_query(ctx: Ctx) -> bool:
    query = ctx.bot.pre_checkouts.get(str(ctx.get("pre_checkout_query_id")))
    if query is None or query.ok is not None or query.expired:
        raise bad_request(QUERY_TOO_OLD)
    if time.monotonic() - query.created >= ctx.world.config.precheckout_timeout:
        query.expired = True
        raise bad_request(QUERY_TOO_OLD)
    ok = bool(ctx.get("ok"))
    if not ok and not ctx.get("error_message"):
        raise bad_request("error_message is empty")
    query.ok = ok
    query.error_message = None if ok else ctx.get("error_message")
    query.answered.set()
    return True
