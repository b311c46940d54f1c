"""Paying for an order: a messenger invoice, a YooKassa link, or cash on delivery.

These run outside the conversation's transaction, because a payment provider is called over
the network and no transaction may wait on it (shop.billing opens its own).
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.context import Ctx, Options
from handlers.format import money
from handlers.screens import Button, Reply, Screen, rows
from handlers.texts import t
from shop.billing import choose_cash_on_delivery, invoice_for, start_payment
from shop.errors import ShopError
from shop.models import DeliveryMethod, Order, OrderStatus
from shop.orders import get_order

PAYMENT_ACTION = re.compile(r"(pay|cod):(\d{1,9})")


def payment_buttons(
    ctx: Ctx, order_id: int, total: int, method: DeliveryMethod | None
) -> list[list[Button]]:
    """The ways to pay for an order waiting for its payment, delivered by ``method``."""
    buttons = []
    if ctx.options.can_pay_online(ctx.event.account.channel.value):
        buttons.append([ctx.button("btn.pay", f"pay:{order_id}", total=money(total))])
    if method is not None and method.cash_on_delivery:
        buttons.append([ctx.button("btn.cash", f"cod:{order_id}")])
    return buttons


async def order_payment_buttons(ctx: Ctx, order: Order) -> list[list[Button]]:
    if order.status != OrderStatus.AWAITING_PAYMENT or order.payment_method == "cash":
        return []
    method_id = order.delivery_method_id
    method = await ctx.session.get(DeliveryMethod, method_id) if method_id else None
    return payment_buttons(ctx, order.id, order.total, method)


async def pay(
    sessions: async_sessionmaker[AsyncSession],
    options: Options,
    *,
    channel: str,
    customer_id: int,
    language: str,
    kind: str,
    order_id: int,
) -> Reply:
    """Answer a Pay or Cash press for the customer's own order; ShopError for refusals."""
    back = Button(t(language, "btn.to_order"), action=f"o:{order_id}")
    if kind == "cod":
        await choose_cash_on_delivery(sessions, order_id, customer_id)
        text = t(language, "pay.cash", order_id=order_id)
        return Reply([Screen(text, rows([back]), replace=True)])
    if channel in options.invoice_channels:
        async with sessions() as session:
            order = await get_order(session, order_id, customer_id=customer_id)
            if order.status != OrderStatus.AWAITING_PAYMENT:
                raise ShopError("not_awaiting_payment")
            invoice = invoice_for(order, options.vat_code)
        text = t(language, "pay.invoice", order_id=order_id)
        return Reply([Screen(text, replace=True), Screen(text, invoice=invoice)])
    if options.gateway is None:
        raise ShopError("payment_unavailable", order_id=order_id)
    url = await start_payment(
        sessions, options.gateway, order_id, customer_id, options.return_urls.get(channel, "")
    )
    async with sessions() as session:
        order = await get_order(session, order_id, customer_id=customer_id)
    text = t(language, "pay.link", order_id=order_id, total=money(order.total))
    pay_button = Button(t(language, "btn.pay_link"), url=url)
    return Reply([Screen(text, rows([pay_button], [back]), replace=True)])
