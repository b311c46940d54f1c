"""HTTP notifications the way YooKassa sends them: a JSON POST naming the event and object."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

EVENT_BY_STATUS = {
    "waiting_for_capture": "payment.waiting_for_capture",
    "succeeded": "payment.succeeded",
    "canceled": "payment.canceled",
}
REFUND_SUCCEEDED = "refund.succeeded"


@dataclass
class Delivery:
    """One notification attempt, kept so tests can assert on what was sent."""

    url: str
    body: Any
    status: int | None = None
    error: str | None = None


def event_for_payment(status: str) -> str:
    try:
        return EVENT_BY_STATUS[status]
    except KeyError:
        raise ValueError(f"a payment in status {status!r} has no notification event") from None


def notification(event: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"type": "notification", "event": event, "object": obj}


async def deliver(session: aiohttp.ClientSession, delivery: Delivery) -> int:
    """POST the body; a str or bytes body goes out as is, for forged or malformed notifications."""
    if isinstance(delivery.body, bytes | str):
        data = delivery.body
    else:
        data = json.dumps(delivery.body, ensure_ascii=False)
    try:
        async with session.post(
            delivery.url,
            data=data,
            headers={"Content-Type": "application/json"},
            timeout=aiohttp.ClientTimeout(total=10),
        ) as response:
            await response.read()
            delivery.status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        delivery.error = repr(error)
        raise
    return response.status
