"""Outbox messages as the person reads them (the dispatcher in bot/ delivers them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.format import local_date, money
from handlers.promo import value_text
from handlers.screens import Button, Screen, rows, screen_from_payload
from handlers.texts import t
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
        order_id = payload["order_id"]
        event = payload.get("kind")
        if event == OrderEventKind.EXPIRED:
            text = t(lang, "notify.expired", order_id=order_id)
        elif event == OrderEventKind.LATE_PAID:
            text = t(lang, "notify.late_paid", order_id=order_id)
        else:
            text = t(
                lang,
                "notify.status",
                order_id=order_id,
                status=t(lang, f"status.{payload['status']}"),
            )
        return Screen(text, rows([Button(t(lang, "btn.orders"), action=f"o:{order_id}")]))
    return None
