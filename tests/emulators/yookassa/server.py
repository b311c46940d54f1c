"""The HTTP side: API v3 routes with Basic auth, idempotence and error bodies like the real API."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.emulators.yookassa import checkout
from tests.emulators.yookassa.errors import ApiFailure, invalid_credentials, invalid_request
from tests.emulators.yookassa.idempotency import fingerprint
from tests.emulators.yookassa.state import Shop
from tests.emulators.yookassa.validation import check_idempotence_key, require_object

if TYPE_CHECKING:
    from tests.emulators.yookassa.emulator import YooKassaEmulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Operation = Callable[[Shop, Any], dict[str, Any]]
SHOP_KEY = web.RequestKey("shop", Shop)


@dataclass
class RecordedRequest:
    """One API call as it arrived, for tests asserting on what the client sent."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any

    @property
    def idempotence_key(self) -> str | None:
        return self.headers.get("Idempotence-Key")


def build_app(emulator: YooKassaEmulator) -> web.Application:
    api = ApiRoutes(emulator)
    app = web.Application(middlewares=[api.middleware])
    app.router.add_post("/v3/payments", api.create_payment)
    app.router.add_get("/v3/payments", api.list_payments)
    app.router.add_get("/v3/payments/{id}", api.get_payment)
    app.router.add_post("/v3/payments/{id}/capture", api.capture_payment)
    app.router.add_post("/v3/payments/{id}/cancel", api.cancel_payment)
    app.router.add_post("/v3/refunds", api.create_refund)
    app.router.add_get("/v3/refunds", api.list_refunds)
    app.router.add_get("/v3/refunds/{id}", api.get_refund)
    app.router.add_route("*", "/v3/{tail:.*}", api.unknown)
    checkout.add_routes(app, emulator)
    return app


class ApiRoutes:
    def __init__(self, emulator: YooKassaEmulator) -> None:
        self.emu = emulator

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v3/"):
            return await handler(request)
        raw = await request.read()
        self.emu.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=dict(request.headers),
                body=_loads_or_text(raw),
            )
        )
        try:
            request[SHOP_KEY] = self._authenticate(request.headers.get("Authorization", ""))
            return await handler(request)
        except ApiFailure as failure:
            return web.json_response(failure.body(), status=failure.status)

    def _authenticate(self, header: str) -> Shop:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            raise invalid_credentials()
        try:
            shop_id, _, secret = base64.b64decode(token, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise invalid_credentials() from None
        shop = self.emu.shops.get(shop_id)
        if shop is None or shop.secret_key != secret:
            raise invalid_credentials()
        return shop

    async def create_payment(self, request: web.Request) -> web.StreamResponse:
        response = await self._idempotent(request, self.emu.api_create_payment)
        failure = self.emu.take_create_failure()
        if failure is None:
            return response
        mode, hold = failure
        if hold:
            await asyncio.sleep(hold)
        if mode == "timeout":
            # The payment exists, but the client never hears so: drop the connection.
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        if mode == "202":
            body = {"type": "processing", "description": "Request accepted", "retry_after": 1800}
            return web.json_response(body, status=202)
        error = ApiFailure(500, "internal_server_error", "Internal server error. Retry later.")
        return web.json_response(error.body(), status=500)

    async def get_payment(self, request: web.Request) -> web.StreamResponse:
        payment = self.emu.find_payment(request[SHOP_KEY], request.match_info["id"])
        return web.json_response(payment.as_api())

    async def list_payments(self, request: web.Request) -> web.StreamResponse:
        shop = request[SHOP_KEY]
        status = request.query.get("status")
        items = [
            record.as_api()
            for record in reversed(self.emu.payments.values())
            if record.shop is shop and (status is None or record.status == status)
        ]
        return web.json_response(_page(items, request.query))

    async def capture_payment(self, request: web.Request) -> web.StreamResponse:
        payment_id = request.match_info["id"]
        return await self._idempotent(
            request, lambda shop, body: self.emu.api_capture(shop, payment_id, body)
        )

    async def cancel_payment(self, request: web.Request) -> web.StreamResponse:
        payment_id = request.match_info["id"]
        return await self._idempotent(
            request, lambda shop, body: self.emu.api_cancel(shop, payment_id)
        )

    async def create_refund(self, request: web.Request) -> web.StreamResponse:
        return await self._idempotent(request, self.emu.api_create_refund)

    async def get_refund(self, request: web.Request) -> web.StreamResponse:
        refund = self.emu.find_refund(request[SHOP_KEY], request.match_info["id"])
        return web.json_response(refund.as_api())

    async def list_refunds(self, request: web.Request) -> web.StreamResponse:
        shop = request[SHOP_KEY]
        payment_id = request.query.get("payment_id")
        items = [
            refund.as_api()
            for refund in reversed(self.emu.refunds.values())
            if self.emu.payments[refund.payment_id].shop is shop
            and (payment_id is None or refund.payment_id == payment_id)
        ]
        return web.json_response(_page(items, request.query))

    async def unknown(self, request: web.Request) -> web.StreamResponse:
        raise ApiFailure(404, "not_found", f"{request.method} {request.path} is not an API method")

    async def _idempotent(self, request: web.Request, operate: Operation) -> web.StreamResponse:
        """Run a POST once per Idempotence-Key; a repeat gets the first answer back."""
        shop = request[SHOP_KEY]
        key = check_idempotence_key(request.headers.get("Idempotence-Key"))
        body = await _json_body(request)
        request_print = fingerprint(request.method, request.path, body)
        remembered = self.emu.idempotence.replay(shop.shop_id, key, request_print)
        if remembered is not None:
            return web.json_response(remembered.body, status=remembered.status)
        answer = operate(shop, body)
        self.emu.idempotence.remember(shop.shop_id, key, request_print, 200, answer)
        return web.json_response(answer)


async def _json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return require_object(json.loads(raw), "body")
    except (ValueError, UnicodeDecodeError):
        raise invalid_request("The request body is not valid JSON", "body") from None


def _loads_or_text(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode(errors="replace")


def _page(items: list[dict[str, Any]], query: Any) -> dict[str, Any]:
    """A list answer; the cursor is an offset, opaque to the client as the real one is."""
    try:
        limit = int(query.get("limit", 10))
        offset = int(query.get("cursor", 0))
    except ValueError:
        raise invalid_request("limit and cursor must be numbers", "limit") from None
    if not 1 <= limit <= 100:
        raise invalid_request("limit must be 1..100", "limit")
    page: dict[str, Any] = {"type": "list", "items": items[offset : offset + limit]}
    if offset + limit < len(items):
        page["next_cursor"] = str(offset + limit)
    return page
