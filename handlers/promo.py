"""Promo codes as the shopper sees them: the discount line in the cart and the order summary,
and /promo, which says whether a code is theirs (checkout applies their code by itself)."""

from __future__ import annotations

from datetime import datetime

from handlers.context import Ctx, Router
from handlers.format import local_date, money
from handlers.screens import Reply
from handlers.texts import t
from shop import promo
from shop.cart import CartView

router = Router()

CODE_LIMIT = 40
"""Longer typed text is no code (answered as unknown without a query)."""


def value_text(lang: str, percent: int | None, amount: int | None) -> str:
    """``10%`` or ``500 ₽``: what a code takes off."""
    if percent is not None:
        return t(lang, "promo.percent", percent=percent)
    return money(amount or 0)


async def cart_offer(ctx: Ctx, view: CartView) -> promo.Offer | None:
    """The code checkout would apply to this cart now, if it takes anything off."""
    lines = [(item.price, item.quantity) for item in view.items if item.problem is None]
    offer = await promo.offer_for(ctx.session, ctx.customer.id, lines)
    return offer if offer is not None and offer.discount else None


def discount_line(ctx: Ctx, offer: promo.Offer) -> str:
    return ctx.t("promo.line", code=offer.code, discount=money(offer.discount))


@router.command("promo")
async def show_promo(ctx: Ctx) -> Reply:
    """``/promo CODE`` checks a typed code; bare ``/promo`` shows the shopper's own code."""
    ctx.state.step = None
    typed = ctx.event.text.strip()
    if typed:
        if len(typed) > CODE_LIMIT:
            return _answer(ctx, ctx.t("error.promo_unknown"))
        code = await promo.check(ctx.session, typed, ctx.customer.id)
        return _yours(ctx, code.code, code.percent, code.amount, code.expires_at)
    offer = await promo.offer_for(ctx.session, ctx.customer.id, [])
    if offer is None:
        return _answer(ctx, ctx.t("promo.none"))
    return _yours(ctx, offer.code, offer.percent, offer.amount, offer.expires_at)


def _yours(ctx: Ctx, code: str, percent: int | None, amount: int | None, until: datetime) -> Reply:
    value = value_text(ctx.lang, percent, amount)
    return _answer(ctx, ctx.t("promo.yours", code=code, value=value, until=local_date(until)))


def _answer(ctx: Ctx, text: str) -> Reply:
    return ctx.screen(text, [ctx.button("btn.cart", "cart"), ctx.button("btn.menu", "m")])
