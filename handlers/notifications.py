"""Outbox messages as the person reads them (the dispatcher in bot/ delivers them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.format import local_date, money
from handlers.promo import value_text
from handlers.screens import Button, Screen, rows, screen_from_payload
from handlers.texts import t
from shop.desk import tracking_link
from shop.models import OrderEventKind


def render_notification(kind: str, payload: dict[str, Any], lang: str) -> Screen | None:
    """The screen for an outbox message, or None for a kind this version does not know."""
    if kind == "screen":  # a reply that could not go out at once (bot/delivery.hand_over)
        return screen_from_payload(payload["screen"])
    if kind == "staff_alert" and payload.get("reason") == "undelivered":
        return Screen(t("ru", "notify.undelivered", **payload))
    if kind == "staff_alert":
        facts = ", ".join(f"{key}={value}" for key, value in sorted(payload.items()))
        return Screen(t("ru", "notify.staff_alert", facts=facts))
    if kind == "refund":
        order_id = payload["order_id"]
        text = t(lang, "notify.refund", order_id=order_id, amount=money(payload["amount"]))
        return Screen(text, rows([Button(t(lang, "btn.orders"), action=f"o:{order_id}")]))
    if kind == "promo_code":
        value = value_text(lang, payload.get("percent"), payload.get("amount"))
        until = local_date(datetime.fromisoformat(payload["expires_at"]))
        text = t(lang, "notify.promo_code", code=payload["code"], value=value, until=until)
        return Screen(text, rows([Button(t(lang, "btn.cart"), action="cart")]))
    if kind == "order_status":
        return _status_update(payload, lang)
    if kind == "payment_declined":
        order_id = payload["order_id"]
        return Screen(
            t(lang, "notify.declined", order_id=order_id),
            rows(
                [Button(t(lang, "btn.try_again"), action=f"pay:{order_id}")],
                [Button(t(lang, "btn.orders"), action="o")],
            ),
        )
    return None


NEXT_STEP = frozenset({"paid", "assembling", "shipped", "delivered", "cancelled", "refunded"})


def _status_update(payload: dict[str, Any], lang: str) -> Screen:
    """A status change as the shopper reads it: what happened and what comes next, with
    the tracking number and its link once shipped, or ordering the same again after expiry."""
    order_id = payload["order_id"]
    status = payload["status"]
    event = payload.get("kind")
    buttons: list[list[Button]] = []
    if event == OrderEventKind.EXPIRED:
        parts = [t(lang, "notify.expired", order_id=order_id)]
        buttons.append([Button(t(lang, "btn.order_again"), action=f"again:{order_id}")])
    elif event == OrderEventKind.LATE_PAID:
        parts = [t(lang, "notify.late_paid", order_id=order_id)]
    else:
        parts = [t(lang, "notify.status", order_id=order_id, status=t(lang, f"status.{status}"))]
        if status in NEXT_STEP:
            parts.append(t(lang, f"notify.next.{status}"))
    number = payload.get("tracking_number")
    if number:
        parts.append(t(lang, "notify.tracking", number=number))
        link = tracking_link(payload.get("carrier"), number)
        if link:
            buttons.append([Button(t(lang, "btn.track"), url=link)])
    if payload.get("note") and status in ("cancelled", "refunded"):
        parts.append(t(lang, "notify.reason", reason=payload["note"]))
    buttons.append(
        [
            Button(t(lang, "btn.order_no", order_id=order_id), action=f"o:{order_id}"),
            Button(t(lang, "btn.orders"), action="o"),
        ]
    )
    return Screen("\n".join(parts), rows(*buttons))
