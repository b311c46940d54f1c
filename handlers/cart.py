"""The cart screen: lines with ± and remove, totals, clear, and the way to checkout."""

from __future__ import annotations

from handlers.context import Ctx, Router
from handlers.format import money, shorten
from handlers.screens import Button, Reply
from shop import cart as carts
from shop.cart import CartItem

router = Router()


def _line_text(ctx: Ctx, n: int, item: CartItem) -> str:
    title = f"{item.title} ({item.variant_label})" if item.variant_label else item.title
    if item.problem == "unavailable":
        return ctx.t("cart.line_unavailable", n=n, title=title, quantity=item.quantity)
    if item.problem == "not_enough":
        return ctx.t("cart.line_short", n=n, title=title, quantity=item.quantity, stock=item.stock)
    return ctx.t("cart.line", n=n, title=title, quantity=item.quantity, amount=money(item.amount))


def _line_label(n: int, item: CartItem) -> str:
    """The line's button: its mark first (a line that cannot be ordered), then a short title."""
    mark = "⚠️ " if item.problem else ""
    return f"{mark}{n}. {shorten(item.title, 18)} × {item.quantity}"


@router.action(r"cart")
@router.command("cart")
async def show_cart(ctx: Ctx) -> Reply:
    ctx.state.step = None
    view = await carts.get_cart(ctx.session, ctx.customer.id)
    if not view.items:
        return ctx.screen(
            ctx.t("cart.empty"), [ctx.button("btn.catalog", "c"), ctx.button("btn.menu", "m")]
        )
    lines = [_line_text(ctx, n, item) for n, item in enumerate(view.items, 1)]
    text = "\n".join(
        [ctx.t("cart.title"), "", *lines, "", ctx.t("cart.total", total=money(view.total))]
    )
    if not view.orderable:
        text += "\n\n" + ctx.t("cart.fix")
    rows = [
        [
            Button("−", action=f"cd:{item.variant_id}"),
            Button(_line_label(n, item), action=f"p:{item.product_id}"),
            Button("+", action=f"ci:{item.variant_id}"),
            Button("✕", action=f"cr:{item.variant_id}"),
        ]
        for n, item in enumerate(view.items, 1)
    ]
    checkout = [ctx.button("btn.checkout", "co")] if view.orderable else []
    return ctx.screen(
        text, *rows, checkout, [ctx.button("btn.clear", "cc"), ctx.button("btn.menu", "m")]
    )


@router.action(r"c([id]):(\d{1,9})")
async def change_line(ctx: Ctx, direction: str, variant_id: str) -> Reply:
    delta = 1 if direction == "i" else -1
    await carts.change_quantity(ctx.session, ctx.customer.id, int(variant_id), delta)
    return await show_cart(ctx)


@router.action(r"cr:(\d{1,9})")
async def remove_line(ctx: Ctx, variant_id: str) -> Reply:
    await carts.remove_from_cart(ctx.session, ctx.customer.id, int(variant_id))
    reply = await show_cart(ctx)
    reply.toast = ctx.t("toast.removed")
    return reply


@router.action(r"cc")
async def clear(ctx: Ctx) -> Reply:
    await carts.clear_cart(ctx.session, ctx.customer.id)
    reply = await show_cart(ctx)
    reply.toast = ctx.t("toast.cleared")
    return reply
