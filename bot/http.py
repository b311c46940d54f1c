"""The aiohttp application: health check now; webhooks are added by the front-ends."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

ENGINE = web.AppKey("engine", AsyncEngine)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise (for a load balancer's health check)."""
    try:
        async with request.app[ENGINE].connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any database failure means "not healthy"
        return web.json_response({"status": "unavailable", "error": type(exc).__name__}, status=503)
    return web.json_response({"status": "ok"})


def create_web_app(engine: AsyncEngine) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[ENGINE] = engine
    app.router.add_get("/healthz", healthz)
    return app
