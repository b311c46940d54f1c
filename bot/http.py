"""The aiohttp application: /healthz and /metrics; webhooks are added by the front-ends."""

from __future__ import annotations

import contextlib

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import health, metrics

ENGINE = web.AppKey("engine", AsyncEngine)
PAYMENT_NOTIFICATIONS = "/payments/yookassa"
NOTIFICATION_RESULTS = {200: "stored", 400: "bad", 403: "forbidden", 503: "retry"}


async def healthz(request: web.Request) -> web.Response:
    """200 when every configured part works, 503 otherwise (a load balancer's health check);
    the body says per front-end, database, inbox and outbox what is known of it."""
    healthy, body = await health.report(request.app[ENGINE])
    return web.json_response(body, status=200 if healthy else 503)


async def metrics_page(request: web.Request) -> web.Response:
    """The Prometheus exposition; the gauges read from the database are refreshed first."""
    with contextlib.suppress(Exception):  # without the database the counters still count
        await metrics.read_database(request.app[ENGINE])
    return web.Response(body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE})


@web.middleware
async def count_notifications(request: web.Request, handler):  # type: ignore[no-untyped-def]
    """Count payment notifications by how they were answered (the route stays unaware)."""
    response = await handler(request)
    if request.path == PAYMENT_NOTIFICATIONS:
        result = NOTIFICATION_RESULTS.get(response.status, str(response.status))
        metrics.PAYMENT_NOTIFICATIONS.labels(result).inc()
    return response


def create_web_app(engine: AsyncEngine) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024, middlewares=[count_notifications])
    app[ENGINE] = engine
    health.reset()  # a new process (or a new shop in a test): its front-ends report afresh
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    return app
