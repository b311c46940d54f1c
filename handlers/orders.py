"""My orders: the list and one order with its status history."""

from __future__ import annotations

from handlers.context import Ctx, Router
from handlers.format import local_date, local_time, money
from handlers.payment import order_payment_buttons
from handlers.screens import Button, Reply
from shop.cart import order_again
from shop.models import OrderStatus
from shop.orders import get_order, list_orders

router = Router()


def status_text(ctx: Ctx, status: str) -> str:
    return ctx.t(f"status.{status}")


@router.action(r"o")
@router.command("orders")
async def show_orders(ctx: Ctx) -> Reply:
    ctx.state.step = None
    orders = await list_orders(ctx.session, ctx.customer.id)
    if not orders:
        return ctx.screen(
            ctx.t("orders.empty"), [ctx.button("btn.catalog", "c"), ctx.button("btn.menu", "m")]
        )
    rows = [
        [
            Button(
                ctx.t(
                    "orders.line",
                    order_id=o.id,
                    date=local_date(o.created_at),
                    total=money(o.total),
                    status=status_text(ctx, o.status),
                ),
                action=f"o:{o.id}",
            )
        ]
        for o in orders
    ]
    return ctx.screen(ctx.t("orders.title"), *rows, [ctx.button("btn.menu", "m")])


@router.action(r"o:(\d{1,9})")
async def show_order(ctx: Ctx, order_id: str) -> Reply:
    order = await get_order(ctx.session, int(order_id), customer_id=ctx.customer.id)
    lines = "\n".join(
        f"• {line.title} × {line.quantity} = {money(line.amount)}" for line in order.lines
    )
    if order.discount:
        lines += "\n" + ctx.t("order.discount", discount=money(order.discount))
    parts = [
        ctx.t(
            "order.title",
            order_id=order.id,
            date=local_date(order.created_at),
            status=status_text(ctx, order.status),
            lines=lines,
            delivery=order.delivery_title,
            delivery_price=money(order.delivery_price),
            total=money(order.total),
        ),
    ]
    if order.status == OrderStatus.AWAITING_PAYMENT and order.reserved_until:
        parts.append(ctx.t("order.reserved", until=local_time(order.reserved_until)))
    history = [
        ctx.t(
            "order.history_line",
            date=local_time(e.created_at),
            status=status_text(ctx, e.to_status),
        )
        for e in order.events
    ]
    parts.append("\n".join([ctx.t("order.history"), *history]))
    return ctx.screen(
        "\n\n".join(parts),
        *await order_payment_buttons(ctx, order),
        [ctx.button("btn.support_order", f"sup:o:{order.id}")],
        [ctx.button("btn.orders", "o"), ctx.button("btn.menu", "m")],
    )


@router.action(r"again:(\d{1,9})")
async def again(ctx: Ctx, order_id: str) -> Reply:
    """Order the same again: the order's lines back in the cart, as many as are in stock."""
    wanted, put = await order_again(ctx.session, ctx.customer.id, int(order_id))
    key = "again.nothing" if not put else "again.done" if put == wanted else "again.short"
    return ctx.screen(ctx.t(key), [ctx.button("btn.cart", "cart"), ctx.button("btn.menu", "m")])
