"""Paying for an order: online (the front-end's invoice or payment link), or cash on delivery.

A Pay press answers a screen carrying `PayOrder`; the front-end turns it into its own means
after the conversation's transaction, as a payment provider is called over the network and
no transaction may wait on it.
"""

from __future__ import annotations

from handlers.context import Ctx, Router
from handlers.format import money
from handlers.screens import Button, PayOrder, Reply
from shop.billing.cash import take_cash_on_delivery
from shop.errors import ShopError
from shop.models import DeliveryMethod, Order, OrderStatus
from shop.orders import get_order

router = Router()


def payment_buttons(
    ctx: Ctx, order_id: int, total: int, method: DeliveryMethod | None
) -> list[list[Button]]:
    """The ways to pay for an order waiting for its payment, delivered by ``method``."""
    buttons = []
    if ctx.options.can_pay_online(ctx.caps):
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


@router.action(r"pay:(\d{1,9})")
async def pay_online(ctx: Ctx, order_id: str) -> Reply:
    """The customer's own unpaid order, to pay by invoice or link (ShopError otherwise)."""
    order = await get_order(ctx.session, int(order_id), customer_id=ctx.customer.id)
    pay = PayOrder(order.id, ctx.customer.id, ctx.lang)
    if ctx.caps.native_invoice:
        if order.status != OrderStatus.AWAITING_PAYMENT:
            raise ShopError("not_awaiting_payment")
        return ctx.screen(ctx.t("pay.invoice", order_id=order.id), pay=pay)
    if ctx.options.gateway is None:
        raise ShopError("payment_unavailable", order_id=order.id)
    text = ctx.t("pay.link", order_id=order.id, total=money(order.total))
    return ctx.screen(text, [ctx.button("btn.to_order", f"o:{order.id}")], pay=pay)


@router.action(r"cod:(\d{1,9})")
async def pay_cash(ctx: Ctx, order_id: str) -> Reply:
    await take_cash_on_delivery(ctx.session, int(order_id), ctx.customer.id)
    return ctx.screen(
        ctx.t("pay.cash", order_id=int(order_id)), [ctx.button("btn.to_order", f"o:{order_id}")]
    )
