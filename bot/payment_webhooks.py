"""YooKassa notifications over HTTP, and the poller that settles payments without them.

A notification is stored in the inbox before it is answered 200 (503 if it cannot be, so
YooKassa sends it again); the same event for the same object is stored once, however often
it comes. Its body is never trusted: only the payment or refund id is taken from it, the
object is re-read from the API and its status confirmed. Settling failures are logged and
left to the poller, so a bug never turns into YooKassa's retry loop; a body that is not a
notification gets 400.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.inbox import InboxWorker
from bot.jobs import every
from payments.yookassa import YooKassaGateway, is_trusted_ip, parse_notification
from shop.billing import (
    GatewayError,
    LookupGate,
    Outcome,
    pending_payments,
    pending_refunds,
    run_queued_refunds,
    sync_notified,
    sync_payment,
    sync_refund,
)
from shop.inbox import Arrival, Entry

log = logging.getLogger(__name__)

YOOKASSA_PATH = "/payments/yookassa"
POLL_SECONDS = 15
"""Polling interval without a public URL; with webhooks the poller is only a safety net."""
SAFETY_NET_SECONDS = 300


SOURCE = "yookassa"
SETTLE_WITHIN = 5.0
"""How long a notification's answer waits for it to be settled (the inbox has it anyway)."""


def add_yookassa_routes(
    app: web.Application,
    sessions: async_sessionmaker[AsyncSession],
    gateway: YooKassaGateway,
    worker: InboxWorker,
    check_ip: bool,
) -> None:
    """Register ``POST /payments/yookassa``; ``check_ip`` accepts only YooKassa's networks.

    Behind a reverse proxy ``request.remote`` must be the client's address (or turn the check
    off and filter at the proxy).
    """

    async def yookassa_notification(request: web.Request) -> web.Response:
        if check_ip and not is_trusted_ip(request.remote or ""):
            log.warning("YooKassa notification from untrusted %s refused", request.remote)
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            raw = json.loads(await request.read())
            notification = parse_notification(raw)
        except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            log.info("bad YooKassa notification: %s", error)
            return web.json_response({"error": "bad notification"}, status=400)
        event_id = f"{notification.event}:{notification.object_id}"[:96]
        lane = f"{SOURCE}:{notification.object_id}"[:96]
        try:
            await worker.accept([Arrival(SOURCE, event_id, lane, raw)], wait=SETTLE_WITHIN)
        except Exception as error:
            log.warning("YooKassa notification not stored (%r): asking for it again", error)
            return web.json_response({"error": "try again"}, status=503)
        return web.json_response({"status": "ok"})

    gate = LookupGate(sessions, gateway.provider)

    async def settle(entry: Entry) -> None:
        """Re-read the object the notification names, if the gate lets it through, and settle
        it (idempotent: a status only moves forward); then the inbox marks it done. What the
        gate turns away is left to the poller, which reads only ids of our own ledger."""
        notification = parse_notification(entry.payload)
        if notification.kind not in ("payment", "refund"):
            log.info("YooKassa event %s ignored", notification.event)
            return
        try:
            verdict = await sync_notified(
                gate, gateway, notification.kind, notification.object_id, "webhook"
            )
        except GatewayError as error:
            log.warning("could not re-read %s: %s", notification.object_id, error)
            return
        if not verdict.allowed:
            log.info(
                "YooKassa %s %s not looked up: %s",
                notification.kind,
                notification.object_id,
                verdict,
            )

    app.router.add_post(YOOKASSA_PATH, yookassa_notification)
    worker.register(SOURCE, settle)


async def poll_pending_payments(
    sessions: async_sessionmaker[AsyncSession], gateway: YooKassaGateway
) -> int:
    """Re-read every payment and refund still in progress; return how many moved the order.

    One failing payment does not hold back the rest; queued refunds are sent again too.
    """
    async with sessions() as session:
        payment_ids = await pending_payments(session, gateway.provider)
        refund_ids = await pending_refunds(session, gateway.provider)
    moved = 0
    for payment_id in payment_ids:
        try:
            settlement = await sync_payment(sessions, gateway, payment_id, "poll")
        except Exception:
            log.exception("polling payment %s failed", payment_id)
            continue
        moved += settlement.outcome in (Outcome.PAID, Outcome.LATE_PAID, Outcome.REFUNDING)
    for refund_id in refund_ids:
        try:
            await sync_refund(sessions, gateway, refund_id, "poll")
        except Exception:
            log.exception("polling refund %s failed", refund_id)
    await run_queued_refunds(sessions, gateway)
    return moved


def payment_polling_job(
    sessions: async_sessionmaker[AsyncSession], gateway: YooKassaGateway, *, webhook_mode: bool
) -> Awaitable[None]:
    """The poller as a job for the process: often without webhooks, rarely as a safety net."""

    async def poll() -> None:
        moved = await poll_pending_payments(sessions, gateway)
        if moved:
            log.info("polling settled %s payment(s)", moved)

    seconds = SAFETY_NET_SECONDS if webhook_mode else POLL_SECONDS
    return every(seconds, poll, "payment polling")
