"""Checkout: name, phone, delivery, address (when needed), comment, summary, order.

Each step is kept in the conversation state (``co:<step>``) with the draft in ``data["co"]``,
so a restart mid-checkout continues where the shopper was. Every step can go back or cancel;
an answer that makes no sense re-asks with a hint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.cart import show_cart
from handlers.context import Ctx, Router
from handlers.format import local_time, money, shorten
from handlers.payment import payment_buttons
from handlers.screens import Button, Reply, Screen
from handlers.validation import clean_address, clean_comment, clean_name, clean_phone
from shop.cart import get_cart
from shop.checkout import Contact, active_delivery_methods, place_order
from shop.customers import save_contact
from shop.errors import OutOfStock, ShopError
from shop.models import DeliveryMethod
from shop.reservations import HeldOrder, HoldLimitReached, HoldLimits, cancel_unpaid_order

router = Router()

STEPS = ("name", "phone", "delivery", "address", "comment", "confirm")
HELD_SHOWN = 3
"""Held orders offered on a refusal (each a row of two buttons; VK allows ten a screen)."""


def _draft(ctx: Ctx) -> dict[str, object]:
    draft = ctx.state.data.setdefault("co", {})
    assert isinstance(draft, dict)
    return draft


def _nav(ctx: Ctx) -> list[Button]:
    return [ctx.button("btn.back", "co:b"), ctx.button("btn.cancel", "co:x")]


async def _method(ctx: Ctx) -> DeliveryMethod | None:
    method_id = _draft(ctx).get("delivery")
    if not isinstance(method_id, int):
        return None
    method = await ctx.session.get(DeliveryMethod, method_id)
    return method if method is not None and method.active else None


def _method_title(ctx: Ctx, method: DeliveryMethod) -> str:
    return method.title_en if ctx.lang == "en" and method.title_en else method.title


async def _ask(ctx: Ctx, step: str, hint: str | None = None) -> Reply:
    """Put the shopper on ``step`` and ask its question (with ``hint`` first after nonsense)."""
    ctx.state.step = f"co:{step}"
    return await ASK[step](ctx, hint)


def _question(ctx: Ctx, key: str, hint: str | None, *rows: list[Button]) -> Reply:
    text = f"{hint}\n\n{ctx.t(key)}" if hint else ctx.t(key)
    return ctx.screen(text, *rows, _nav(ctx))


async def _ask_name(ctx: Ctx, hint: str | None) -> Reply:
    known = ctx.customer.name or ctx.event.display_name or ctx.customer.display_name
    use = [ctx.button("btn.use_name", "co:n", name=shorten(known, 30))] if clean_name(known) else []
    return _question(ctx, "checkout.name", hint, use)


async def _ask_phone(ctx: Ctx, hint: str | None) -> Reply:
    phone = ctx.customer.phone
    use = [ctx.button("btn.use_phone", "co:p", phone=phone)] if phone else []
    if not ctx.shares_contact:
        return _question(ctx, "checkout.phone_typed", hint, use)
    reply = _question(ctx, "checkout.phone", hint, use)
    reply.screens.append(Screen(ctx.t("checkout.phone_hint"), ask_contact=ctx.t("btn.share_phone")))
    return reply


def _drop_share_button(ctx: Ctx, reply: Reply, ack: str = "✔️") -> Reply:
    """Leaving the phone step: take the share-phone keyboard away where there was one."""
    if ctx.shares_contact:
        reply.screens.insert(0, Screen(ack, clear_reply_keyboard=True))
    return reply


async def _ask_delivery(ctx: Ctx, hint: str | None) -> Reply:
    rows = []
    for method in await active_delivery_methods(ctx.session):
        title = _method_title(ctx, method)
        if method.price:
            text = ctx.t("btn.delivery", title=title, price=money(method.price))
        else:
            text = ctx.t("btn.delivery_free", title=title)
        rows.append([Button(text, action=f"co:d:{method.id}")])
    return _question(ctx, "checkout.delivery", hint, *rows)


async def _ask_address(ctx: Ctx, hint: str | None) -> Reply:
    saved = ctx.customer.address
    use = [ctx.button("btn.use_address", "co:a", address=shorten(saved, 30))] if saved else []
    return _question(ctx, "checkout.address", hint, use)


async def _ask_comment(ctx: Ctx, hint: str | None) -> Reply:
    return _question(ctx, "checkout.comment", hint, [ctx.button("btn.no_comment", "co:c")])


async def _ask_confirm(ctx: Ctx, hint: str | None) -> Reply:
    draft = _draft(ctx)
    method = await _method(ctx)
    view = await get_cart(ctx.session, ctx.customer.id)
    if method is None or not view.orderable:
        return await start_checkout(ctx)
    lines = "\n".join(
        f"• {item.title}{f' ({item.variant_label})' if item.variant_label else ''}"
        f" × {item.quantity} = {money(item.amount)}"
        for item in view.items
    )
    address = draft.get("address") if method.needs_address else None
    text = ctx.t(
        "checkout.summary",
        lines=lines,
        delivery=_method_title(ctx, method),
        delivery_price=money(method.price),
        address=ctx.t("checkout.summary_address", address=address) if address else "",
        name=draft.get("name"),
        phone=draft.get("phone"),
        comment=ctx.t("checkout.summary_comment", comment=draft["comment"])
        if draft.get("comment")
        else "",
        total=money(view.total + method.price),
    )
    text = f"{hint}\n\n{text}" if hint else text
    return ctx.screen(text, [ctx.button("btn.confirm", "co:ok")], _nav(ctx))


ASK: dict[str, Callable[[Ctx, str | None], Awaitable[Reply]]] = {
    "name": _ask_name,
    "phone": _ask_phone,
    "delivery": _ask_delivery,
    "address": _ask_address,
    "comment": _ask_comment,
    "confirm": _ask_confirm,
}


@router.action(r"co")
async def start_checkout(ctx: Ctx) -> Reply:
    view = await get_cart(ctx.session, ctx.customer.id)
    if not view.items:
        raise ShopError("cart_empty")
    if not view.orderable:
        raise ShopError("cart_not_ready")
    ctx.state.data["co"] = {}
    return await _ask(ctx, "name")


async def _after(ctx: Ctx, step: str) -> Reply:
    """Go to the step after ``step`` (the address only when the delivery needs one)."""
    following = STEPS[STEPS.index(step) + 1]
    if following == "address":
        method = await _method(ctx)
        if method is None:
            return await _ask(ctx, "delivery")
        if not method.needs_address:
            following = "comment"
    return await _ask(ctx, following)


@router.action(r"co:b")
async def go_back(ctx: Ctx) -> Reply:
    step = (ctx.state.step or "").removeprefix("co:")
    if step not in STEPS:
        return Reply(toast=ctx.t("error.not_available"))
    if step == "name":
        return await show_cart(ctx)
    previous = STEPS[STEPS.index(step) - 1]
    if previous == "address":
        method = await _method(ctx)
        if method is None or not method.needs_address:
            previous = "delivery"
    reply = await _ask(ctx, previous)
    return _drop_share_button(ctx, reply) if step == "phone" else reply


@router.action(r"co:x")
@router.command("cancel")
async def cancel(ctx: Ctx) -> Reply:
    was_phone = ctx.state.step == "co:phone"
    ctx.state.step = None
    ctx.state.data.pop("co", None)
    reply = ctx.screen(
        ctx.t("checkout.cancelled"), [ctx.button("btn.cart", "cart"), ctx.button("btn.menu", "m")]
    )
    return _drop_share_button(ctx, reply) if was_phone else reply


def _on_step(ctx: Ctx, step: str) -> bool:
    return ctx.state.step == f"co:{step}"


@router.action(r"co:n")
async def use_known_name(ctx: Ctx) -> Reply:
    if not _on_step(ctx, "name"):
        return Reply(toast=ctx.t("error.not_available"))
    known = ctx.customer.name or ctx.event.display_name or ctx.customer.display_name
    return await answer_name(ctx, known)


@router.action(r"co:p")
async def use_known_phone(ctx: Ctx) -> Reply:
    if not _on_step(ctx, "phone") or not ctx.customer.phone:
        return Reply(toast=ctx.t("error.not_available"))
    return await answer_phone(ctx, ctx.customer.phone)


@router.action(r"co:d:(\d{1,9})")
async def choose_delivery(ctx: Ctx, method_id: str) -> Reply:
    method = await ctx.session.get(DeliveryMethod, int(method_id))
    if not _on_step(ctx, "delivery") or method is None or not method.active:
        return Reply(toast=ctx.t("error.not_available"))
    _draft(ctx)["delivery"] = method.id
    return await _after(ctx, "delivery")


@router.action(r"co:a")
async def use_known_address(ctx: Ctx) -> Reply:
    if not _on_step(ctx, "address") or not ctx.customer.address:
        return Reply(toast=ctx.t("error.not_available"))
    return await answer_text(ctx, ctx.customer.address)


@router.action(r"co:c")
async def no_comment(ctx: Ctx) -> Reply:
    if not _on_step(ctx, "comment"):
        return Reply(toast=ctx.t("error.not_available"))
    _draft(ctx)["comment"] = None
    return await _ask(ctx, "confirm")


async def answer_name(ctx: Ctx, text: str) -> Reply:
    name = clean_name(text)
    if name is None:
        return await _ask(ctx, "name", ctx.t("checkout.name_bad"))
    _draft(ctx)["name"] = name
    return await _ask(ctx, "phone")


async def answer_phone(ctx: Ctx, text: str) -> Reply:
    phone = clean_phone(text)
    if phone is None:
        return await _ask(ctx, "phone", ctx.t("checkout.phone_bad"))
    _draft(ctx)["phone"] = phone
    return _drop_share_button(ctx, await _ask(ctx, "delivery"), ack=f"📱 {phone}")


async def answer_text(ctx: Ctx, text: str) -> Reply:
    """Free text while on a checkout step is that step's answer."""
    step = (ctx.state.step or "").removeprefix("co:")
    if step == "name":
        return await answer_name(ctx, text)
    if step == "phone":
        return await answer_phone(ctx, text)
    if step == "address":
        address = clean_address(text)
        if address is None:
            return await _ask(ctx, "address", ctx.t("checkout.address_bad"))
        _draft(ctx)["address"] = address
        return await _ask(ctx, "comment")
    if step == "comment":
        comment = clean_comment(text)
        if comment is None:
            return await _ask(ctx, "comment", ctx.t("checkout.comment_bad"))
        _draft(ctx)["comment"] = comment
        return await _ask(ctx, "confirm")
    return await _ask(ctx, step, ctx.t(_expected(step)))


async def answer_media(ctx: Ctx) -> Reply:
    """A sticker or voice where a step wants text or a button: say so and ask again."""
    step = (ctx.state.step or "").removeprefix("co:")
    return await _ask(ctx, step, ctx.t(_expected(step)))


def _expected(step: str) -> str:
    return (
        "checkout.button_expected" if step in ("delivery", "confirm") else "checkout.text_expected"
    )


@router.action(r"co:ok")
async def confirm(ctx: Ctx) -> Reply:
    if not _on_step(ctx, "confirm"):
        return Reply(toast=ctx.t("error.not_available"))
    draft = _draft(ctx)
    method = await _method(ctx)
    if method is None:
        return await _ask(ctx, "delivery")
    contact = Contact(
        name=str(draft["name"]),
        phone=str(draft["phone"]),
        address=str(draft["address"]) if method.needs_address and draft.get("address") else None,
        comment=str(draft["comment"]) if draft.get("comment") else None,
    )
    try:
        order = await place_order(
            ctx.session,
            ctx.customer.id,
            channel=ctx.event.account.channel.value,
            delivery_method_id=method.id,
            contact=contact,
            reservation_minutes=ctx.options.reservation_minutes,
            limits=HoldLimits(ctx.options.max_unpaid_orders, ctx.options.max_units_per_sku),
        )
    except HoldLimitReached as refused:  # nothing was written: the draft stays for a retry
        return _hold_refusal(ctx, refused)
    except OutOfStock as short:
        ctx.state.step = None
        lines = "\n".join(
            ctx.t(
                "checkout.short_line", title=s.title, requested=s.requested, available=s.available
            )
            for s in short.shortages
        )
        return ctx.screen(ctx.t("checkout.short", lines=lines), [ctx.button("btn.cart", "cart")])
    await save_contact(
        ctx.session, ctx.customer, name=contact.name, phone=contact.phone, address=contact.address
    )
    ctx.state.step = None
    ctx.state.data.pop("co", None)
    text = ctx.t(
        "checkout.placed",
        order_id=order.id,
        total=money(order.total),
        until=local_time(order.reserved_until),
    )
    return ctx.screen(
        text,
        *payment_buttons(ctx, order.id, order.total, method),
        [ctx.button("btn.orders", f"o:{order.id}")],
        [ctx.button("btn.menu", "m")],
    )


def _hold_refusal(ctx: Ctx, refused: HoldLimitReached) -> Reply:
    """Too much held unpaid: say what the limit is, and offer to pay for or cancel an order."""
    if refused.code == "unpaid_orders_limit":
        text = ctx.t("checkout.hold_orders", limit=refused.limit, count=len(refused.held))
    else:
        lines = "\n".join(
            ctx.t("checkout.hold_units_line", title=over.title, wanted=over.wanted, held=over.held)
            for over in refused.over
        )
        text = ctx.t("checkout.hold_units", limit=refused.limit, lines=lines)
    if any(order.cash_on_delivery for order in refused.held):
        text = f"{text}\n\n{ctx.t('checkout.hold_cash')}"
    rows = [_held_row(ctx, order) for order in refused.held[-HELD_SHOWN:]]
    return ctx.screen(text, *rows, [ctx.button("btn.cart", "cart"), ctx.button("btn.menu", "m")])


def _held_row(ctx: Ctx, order: HeldOrder) -> list[Button]:
    """Open the order (its screen has the pay buttons); cancel it, if the shopper may."""
    row = [
        ctx.button("btn.held_order", f"o:{order.id}", order_id=order.id, total=money(order.total))
    ]
    if not order.cash_on_delivery:
        row.append(ctx.button("btn.cancel_order", f"co:xo:{order.id}", order_id=order.id))
    return row


@router.action(r"co:xo:(\d{1,9})")
async def cancel_held_order(ctx: Ctx, order_id: str) -> Reply:
    """Let go of one's own unpaid order, then back to the order being placed, if any."""
    await cancel_unpaid_order(ctx.session, int(order_id), ctx.customer.id)
    done = ctx.t("checkout.order_cancelled", order_id=int(order_id))
    if _on_step(ctx, "confirm"):
        return await _ask(ctx, "confirm", done)
    return ctx.screen(done, [ctx.button("btn.cart", "cart"), ctx.button("btn.orders", "o")])
