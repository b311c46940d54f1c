"""The page a confirmation_url opens: a person can pay or decline by hand, then goes back."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from tests.emulators.yookassa.emulator import YooKassaEmulator

_PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>YooKassa emulator: {id}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 30em; margin: 2em auto">
<h1>Оплата {amount} {currency}</h1>
<p>{description}</p>
<p>Платёж <code>{id}</code>, статус <b>{status}</b></p>
{actions}
<p><small>Эмулятор ЮKassa: деньги не списываются.</small></p>
</body></html>
"""
_ACTIONS = """<form method="post" action="/checkout/{id}/pay"><button>Оплатить</button></form>
<form method="post" action="/checkout/{id}/decline"><button>Отказ банка</button></form>
"""


def add_routes(app: web.Application, emulator: YooKassaEmulator) -> None:
    async def show(request: web.Request) -> web.StreamResponse:
        payment = emulator.payments.get(request.match_info["id"])
        if payment is None:
            raise web.HTTPNotFound(text="Unknown payment")
        body = payment.as_api()
        actions = _ACTIONS.format(id=escape(payment.id)) if payment.status == "pending" else ""
        html = _PAGE.format(
            id=escape(payment.id),
            amount=body["amount"]["value"],
            currency=body["amount"]["currency"],
            description=escape(payment.description or ""),
            status=escape(payment.status),
            actions=actions,
        )
        return web.Response(text=html, content_type="text/html")

    async def pay(request: web.Request) -> web.StreamResponse:
        return _settle(request, emulator, "pay")

    async def decline(request: web.Request) -> web.StreamResponse:
        return _settle(request, emulator, "decline")

    app.router.add_get("/checkout/{id}", show)
    app.router.add_post("/checkout/{id}/pay", pay)
    app.router.add_post("/checkout/{id}/decline", decline)


def _settle(request: web.Request, emulator: YooKassaEmulator, action: str) -> web.StreamResponse:
    """Apply the shopper's choice and send them back where the shop asked."""
    payment = emulator.payments.get(request.match_info["id"])
    if payment is None:
        raise web.HTTPNotFound(text="Unknown payment")
    if payment.status == "pending":
        if action == "pay":
            emulator.pay(payment.id)
        else:
            emulator.cancel(payment.id, "insufficient_funds")
    return_url = payment.confirmation.get("return_url")
    raise web.HTTPSeeOther(return_url or f"/checkout/{payment.id}")
