"""Prometheus metrics of the process, served at /metrics (bot/http.py).

Counters move where things happen: the inbox worker counts updates handled and failed by
channel and kind, with their handling time; the outbox counts sends by outcome; HTTP
answers to payment notifications are counted by result. Queue depths and the shop's orders
placed and paid are read from the database when scraped, so they agree across workers.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE  # noqa: F401 (re-exported)
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import logs

if TYPE_CHECKING:
    from shop.inbox import Entry

REGISTRY = CollectorRegistry()

UPDATES_HANDLED = Counter(
    "shop_updates_handled",
    "Incoming events handled, by channel (telegram, vk, yookassa) and kind",
    ["channel", "kind"],
    registry=REGISTRY,
)
UPDATES_FAILED = Counter(
    "shop_updates_failed",
    "Tries at handling an incoming event that failed (it is tried again, or parked)",
    ["channel", "kind"],
    registry=REGISTRY,
)
HANDLING_SECONDS = Histogram(
    "shop_update_handling_seconds",
    "Time from taking up an incoming event to its being handled",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
SENDS = Counter(
    "shop_outbox_sends",
    "Outbox messages tried, by outcome: ok, 429 (paced), blocked (unreachable), failed",
    ["outcome"],
    registry=REGISTRY,
)
PAYMENT_NOTIFICATIONS = Counter(
    "shop_payment_notifications",
    "YooKassa notifications received, by result: stored, bad (400), forbidden, retry (503)",
    ["result"],
    registry=REGISTRY,
)
INBOX_DEPTH = Gauge("shop_inbox_depth", "Incoming events waiting to be handled", registry=REGISTRY)
OUTBOX_DEPTH = Gauge("shop_outbox_depth", "Outbox messages waiting to be sent", registry=REGISTRY)
ORDERS_PLACED = Gauge(
    "shop_orders_placed_total", "Orders placed in the shop (all workers)", registry=REGISTRY
)
ORDERS_PAID = Gauge(
    "shop_orders_paid_total", "Orders paid in the shop (all workers)", registry=REGISTRY
)

_started: ContextVar[float] = ContextVar("handling_started", default=0.0)


def update_kind(entry: Entry) -> str:
    """What kind of event an entry holds: Telegram's update field, VK's type, YooKassa's event."""
    payload: dict[str, Any] = entry.payload if isinstance(entry.payload, dict) else {}
    if entry.source == "telegram":
        return next((key for key in payload if key != "update_id"), "unknown")
    kind = payload.get("type") or payload.get("event") or "unknown"
    return str(kind)[:40]


def update_ref(entry: Entry) -> str:
    """The platform's id of the event (Telegram's update_id, VK's event_id), else the row's."""
    payload = entry.payload if isinstance(entry.payload, dict) else {}
    found = payload.get("update_id") or payload.get("event_id")
    return str(found) if found is not None else f"inbox/{entry.id}"


@contextlib.contextmanager
def handling(entry: Entry) -> Iterator[None]:
    """Around the handling of one entry: its lines name the update, its time is measured."""
    token = _started.set(time.perf_counter())
    try:
        with logs.handling(update_ref(entry), entry.lane, entry.source):
            yield
    finally:
        _started.reset(token)


def handled(entry: Entry) -> None:
    UPDATES_HANDLED.labels(entry.source, update_kind(entry)).inc()
    started = _started.get()
    if started:
        HANDLING_SECONDS.labels(entry.source).observe(time.perf_counter() - started)


def failed(entry: Entry) -> None:
    UPDATES_FAILED.labels(entry.source, update_kind(entry)).inc()


def sent(error: str | None, *, paced: bool, blocked: bool) -> None:
    """One outbox send's outcome (what bot/delivery.py records)."""
    if error is None:
        outcome = "ok"
    elif paced:
        outcome = "429"
    elif blocked:
        outcome = "blocked"
    else:
        outcome = "failed"
    SENDS.labels(outcome).inc()


async def read_database(engine: AsyncEngine) -> None:
    """Refresh the gauges read from the database (queue depths, orders)."""
    from shop.models import OrderEvent
    from shop.models.orders import OrderEventKind

    kinds = [OrderEventKind.PLACED.value, OrderEventKind.PAID.value, OrderEventKind.LATE_PAID.value]
    async with engine.connect() as connection:
        inbox, outbox = await queue_depths(connection)
        rows = await connection.execute(
            select(OrderEvent.kind, func.count())
            .where(OrderEvent.kind.in_(kinds))
            .group_by(OrderEvent.kind)
        )
        counts = {str(kind): int(count) for kind, count in rows}
    INBOX_DEPTH.set(inbox)
    OUTBOX_DEPTH.set(outbox)
    ORDERS_PLACED.set(counts.get(kinds[0], 0))
    ORDERS_PAID.set(counts.get(kinds[1], 0) + counts.get(kinds[2], 0))


async def queue_depths(connection: Any) -> tuple[int, int]:
    """Pending inbox events and pending outbox messages."""
    from shop.models import InboxEvent, OutboxMessage
    from shop.models.system import InboxStatus, OutboxStatus

    inbox = await connection.scalar(
        select(func.count()).where(InboxEvent.status == InboxStatus.PENDING.value)
    )
    outbox = await connection.scalar(
        select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING.value)
    )
    return int(inbox or 0), int(outbox or 0)


def exposition() -> bytes:
    return generate_latest(REGISTRY)
