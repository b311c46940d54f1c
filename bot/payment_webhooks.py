"""YooKassa notifications over HTTP, and the poller that settles payments without them.

A notification body is never trusted: only the payment or refund id is taken from it, the
object is re-read from the API and its status confirmed. The answer is 200 whenever the body
was a notification, even if settling failed (logged; the poller settles it later), so a bug
never turns into YooKassa's retry loop; a body that is not a notification gets 400.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs import every
from payments.yookassa import YooKassaGateway, is_trusted_ip, parse_notification
from shop.payments import (
    GatewayError,
    Outcome,
    pending_payments,
    pending_refunds,
    run_queued_refunds,
    sync_payment,
    sync_refund,
)

log = logging.getLogger(__name__)

YOOKASSA_PATH = "/payments/yookassa"
POLL_SECONDS = 15
"""Polling interval without a public URL; with webhooks the poller is only a safety net."""
SAFETY_NET_SECONDS = 300


def add_yookassa_routes(
    app: web.Application,
    sessions: async_sessionmaker[AsyncSession],
    gateway: YooKassaGateway,
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
            notification = parse_notification(json.loads(await request.read()))
        except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            log.info("bad YooKassa notification: %s", error)
            return web.json_response({"error": "bad notification"}, status=400)
        try:
            if notification.kind == "payment":
                await sync_payment(sessions, gateway, notification.object_id, "webhook")
            elif notification.kind == "refund":
                await sync_refund(sessions, gateway, notification.object_id, "webhook")
            else:
                log.info("YooKassa event %s ignored", notification.event)
        except GatewayError as error:
            log.warning("could not re-read %s: %s", notification.object_id, error)
        except Exception:
            log.exception("YooKassa notification %s not settled", notification.object_id)
        return web.json_response({"status": "ok"})

    app.router.add_post(YOOKASSA_PATH, yookassa_notification)


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
