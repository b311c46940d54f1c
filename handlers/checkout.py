"""Checkout as data: the questions are the list STEPS; answering, skipping, going back are generic.

The step a shopper is on is kept in the conversation state (``co:<step>``) with the answers so
far (CheckoutDraft) in ``data["co"]``, so a restart mid-checkout continues where the shopper
was. Every step can go back or cancel; an answer that makes no sense re-asks with the step's
hint. Adding a step is one entry in STEPS and a field of CheckoutDraft, plus its texts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from handlers.cart import show_cart
from handlers.context import Ctx, Router
from handlers.format import local_time, money, shorten
from handlers.payment import payment_buttons
from handlers.promo import cart_offer, discount_line
from handlers.screens import Button, Reply, Screen
from handlers.validation import (
    clean_address,
    clean_comment,
    clean_email,
    clean_name,
    clean_phone,
)
from shop.cart import get_cart
from shop.checkout import Contact, active_delivery_methods, place_order
from shop.customers import save_contact
from shop.errors import OutOfStock, ShopError
from shop.models import DeliveryMethod
from shop.reservations import HeldOrder, HoldLimitReached, HoldLimits, cancel_unpaid_order

router = Router()

HELD_SHOWN = 3
"""Held orders offered on a refusal, each a row of two buttons (fewer where the channel shows
fewer buttons a screen)."""
DRAFT = "co"
"""Where the draft is kept in the conversation state's data."""


@dataclass
class CheckoutDraft:
    """The answers given so far; each step fills the field of its name."""

    name: str | None = None
    phone: str | None = None
    delivery: int | None = None
    """The chosen DeliveryMethod's id."""
    address: str | None = None
    comment: str | None = None
    email: str | None = None
    """Where the 54-FZ receipt goes; None sends it to the phone."""


@dataclass(frozen=True)
class Offer:
    """A one-press answer shown with a question: a value known from before, or None (skip)."""

    label: str
    """Text key of the button (filled with ``params``)."""
    value: str | None
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One question of checkout."""

    name: str
    """The state is ``co:<name>``; the answer goes to the draft's field of that name."""
    question: str
    """Text key of the question (filled with what ``fill`` gives)."""
    parse: Callable[[str], str | None] | None = None
    """A typed answer to its clean value, or None for nonsense. Without it the step is
    answered with buttons only, and text gets "pick one of the options"."""
    hint: str | None = None
    """Text key said before the question again when ``parse`` refuses an answer."""
    shortcut: str = ""
    """The one-letter action ``co:<shortcut>`` that answers with the offer."""
    offer: Callable[[Ctx, CheckoutDraft], Offer | None] | None = None
    """The button answering at one press (under ``shortcut``), if any now."""
    choices: Callable[[Ctx, CheckoutDraft], Awaitable[list[list[Button]]]] | None = None
    """Buttons to answer with, each with an action of its own (delivery methods, confirm)."""
    skip: Callable[[Ctx, CheckoutDraft], Awaitable[bool]] | None = None
    """When the step is passed over, going forwards and backwards."""
    fill: Callable[[Ctx, CheckoutDraft], Awaitable[dict[str, object] | None]] | None = None
    """The question's parameters; None when the draft no longer makes an order (start over)."""
    contact_question: str | None = None
    """Asked instead of ``question`` where the messenger can share a phone with a button,
    which is offered under it; leaving the step takes the button away."""

    def answer_kind(self) -> str:
        """Text key saying what this step wants, for an answer of the wrong kind."""
        return "checkout.text_expected" if self.parse else "checkout.button_expected"


def _draft(ctx: Ctx) -> CheckoutDraft:
    return ctx.state.draft(DRAFT, CheckoutDraft)


def _keep(ctx: Ctx, draft: CheckoutDraft) -> None:
    ctx.state.keep(DRAFT, draft)


def _nav(ctx: Ctx) -> list[Button]:
    return [ctx.button("btn.back", "co:b"), ctx.button("btn.cancel", "co:x")]


async def _method(ctx: Ctx, draft: CheckoutDraft) -> DeliveryMethod | None:
    if draft.delivery is None:
        return None
    method = await ctx.session.get(DeliveryMethod, draft.delivery)
    return method if method is not None and method.active else None


def _method_title(ctx: Ctx, method: DeliveryMethod) -> str:
    return method.title_en if ctx.lang == "en" and method.title_en else method.title


def _known_name(ctx: Ctx) -> str:
    return ctx.customer.name or ctx.event.display_name or ctx.customer.display_name


def _offer_name(ctx: Ctx, draft: CheckoutDraft) -> Offer | None:
    known = _known_name(ctx)
    return Offer("btn.use_name", known, {"name": shorten(known, 30)}) if clean_name(known) else None


def _offer_phone(ctx: Ctx, draft: CheckoutDraft) -> Offer | None:
    phone = ctx.customer.phone
    return Offer("btn.use_phone", phone, {"phone": phone}) if phone else None


def _offer_address(ctx: Ctx, draft: CheckoutDraft) -> Offer | None:
    saved = ctx.customer.address
    return Offer("btn.use_address", saved, {"address": shorten(saved, 30)}) if saved else None


async def _delivery_choices(ctx: Ctx, draft: CheckoutDraft) -> list[list[Button]]:
    rows = []
    for method in await active_delivery_methods(ctx.session):
        title = _method_title(ctx, method)
        if method.price:
            text = ctx.t("btn.delivery", title=title, price=money(method.price))
        else:
            text = ctx.t("btn.delivery_free", title=title)
        rows.append([Button(text, action=f"co:d:{method.id}")])
    return rows


async def _no_address_needed(ctx: Ctx, draft: CheckoutDraft) -> bool:
    method = await _method(ctx, draft)
    return method is None or not method.needs_address


async def _summary(ctx: Ctx, draft: CheckoutDraft) -> dict[str, object] | None:
    method = await _method(ctx, draft)
    view = await get_cart(ctx.session, ctx.customer.id)
    if method is None or not view.orderable or draft.name is None or draft.phone is None:
        return None
    lines = "\n".join(
        f"• {item.title}{f' ({item.variant_label})' if item.variant_label else ''}"
        f" × {item.quantity} = {money(item.amount)}"
        for item in view.items
    )
    offer = await cart_offer(ctx, view)
    discount = offer.discount if offer else 0
    if offer is not None:
        lines += "\n" + discount_line(ctx, offer)
    address = draft.address if method.needs_address else None
    return {
        "lines": lines,
        "delivery": _method_title(ctx, method),
        "delivery_price": money(method.price),
        "address": ctx.t("checkout.summary_address", address=address) if address else "",
        "name": draft.name,
        "phone": draft.phone,
        "comment": ctx.t("checkout.summary_comment", comment=draft.comment)
        if draft.comment
        else "",
        "email": ctx.t("checkout.summary_email", email=draft.email) if draft.email else "",
        "total": money(view.total - discount + method.price),
    }


async def _confirm_button(ctx: Ctx, draft: CheckoutDraft) -> list[list[Button]]:
    return [[ctx.button("btn.confirm", "co:ok")]]


def _skip_with(label: str) -> Callable[[Ctx, CheckoutDraft], Offer | None]:
    return lambda ctx, draft: Offer(label, None)


STEPS: tuple[Step, ...] = (
    Step(
        "name",
        "checkout.name",
        clean_name,
        "checkout.name_bad",
        shortcut="n",
        offer=_offer_name,
    ),
    Step(
        "phone",
        "checkout.phone_typed",
        clean_phone,
        "checkout.phone_bad",
        shortcut="p",
        offer=_offer_phone,
        contact_question="checkout.phone",
    ),
    Step("delivery", "checkout.delivery", choices=_delivery_choices),
    Step(
        "address",
        "checkout.address",
        clean_address,
        "checkout.address_bad",
        shortcut="a",
        offer=_offer_address,
        skip=_no_address_needed,
    ),
    Step(
        "comment",
        "checkout.comment",
        clean_comment,
        "checkout.comment_bad",
        shortcut="c",
        offer=_skip_with("btn.no_comment"),
    ),
    Step(
        "email",
        "checkout.email",
        clean_email,
        "checkout.email_bad",
        shortcut="e",
        offer=_skip_with("btn.no_email"),
    ),
    Step("confirm", "checkout.summary", choices=_confirm_button, fill=_summary),
)
STEP = {step.name: step for step in STEPS}


def _current(ctx: Ctx) -> Step | None:
    """The step the shopper is on, if they are checking out."""
    step = ctx.state.step or ""
    return STEP.get(step.removeprefix("co:")) if step.startswith("co:") else None


def _on_step(ctx: Ctx, name: str) -> bool:
    return ctx.state.step == f"co:{name}"


async def _ask(ctx: Ctx, step: Step, hint: str | None = None) -> Reply:
    """Put the shopper on ``step`` and ask its question (with ``hint`` first after nonsense)."""
    draft = _draft(ctx)
    ctx.state.step = f"co:{step.name}"
    params = await step.fill(ctx, draft) if step.fill else {}
    if params is None:
        return await start_checkout(ctx)
    with_contact = step.contact_question is not None and ctx.shares_contact
    key = step.contact_question if with_contact and step.contact_question else step.question
    text = ctx.t(key, **params)
    rows = await step.choices(ctx, draft) if step.choices else []
    offer = step.offer(ctx, draft) if step.offer else None
    if offer is not None:
        rows.append([ctx.button(offer.label, f"co:{step.shortcut}", **offer.params)])
    reply = ctx.screen(f"{hint}\n\n{text}" if hint else text, *rows, _nav(ctx))
    if with_contact:
        reply.screens.append(
            Screen(ctx.t("checkout.phone_hint"), ask_contact=ctx.t("btn.share_phone"))
        )
    return reply


async def _neighbour(ctx: Ctx, step: Step, direction: int) -> Step | None:
    """The next step asked after (``direction`` 1) or before (-1) ``step``, if any."""
    draft = _draft(ctx)
    index = STEPS.index(step) + direction
    while 0 <= index < len(STEPS):
        candidate = STEPS[index]
        if candidate.skip is None or not await candidate.skip(ctx, draft):
            return candidate
        index += direction
    return None


def _drop_share_button(ctx: Ctx, reply: Reply, ack: str = "✔️") -> Reply:
    """Leaving the phone step: a short note where there was a share-phone control (a new
    message: the front-end takes its control away with it)."""
    if ctx.shares_contact:
        reply.screens.insert(0, Screen(ack))
    return reply


async def _answer(ctx: Ctx, step: Step, value: str | int | None) -> Reply:
    """Keep ``step``'s answer and ask the next question."""
    draft = _draft(ctx)
    setattr(draft, step.name, value)
    _keep(ctx, draft)
    following = await _neighbour(ctx, step, 1)
    assert following is not None, "the last step is answered by confirm"
    reply = await _ask(ctx, following)
    return _drop_share_button(ctx, reply, ack=f"📱 {value}") if step.contact_question else reply


async def _answer_typed(ctx: Ctx, step: Step, text: str) -> Reply:
    value = step.parse(text) if step.parse else None
    if value is None:
        return await _ask(ctx, step, ctx.t(step.hint or step.answer_kind()))
    return await _answer(ctx, step, value)


@router.action(r"co")
async def start_checkout(ctx: Ctx) -> Reply:
    view = await get_cart(ctx.session, ctx.customer.id)
    if not view.items:
        raise ShopError("cart_empty")
    if not view.orderable:
        raise ShopError("cart_not_ready")
    _keep(ctx, CheckoutDraft())
    return await _ask(ctx, STEPS[0])


@router.action(r"co:b")
async def go_back(ctx: Ctx) -> Reply:
    step = _current(ctx)
    if step is None:
        return Reply(toast=ctx.t("error.not_available"))
    previous = await _neighbour(ctx, step, -1)
    reply = await show_cart(ctx) if previous is None else await _ask(ctx, previous)
    return _drop_share_button(ctx, reply) if step.contact_question else reply


@router.action(r"co:x")
@router.command("cancel")
async def cancel(ctx: Ctx) -> Reply:
    step = _current(ctx)
    ctx.state.step = None
    ctx.state.data.pop(DRAFT, None)
    reply = ctx.screen(
        ctx.t("checkout.cancelled"), [ctx.button("btn.cart", "cart"), ctx.button("btn.menu", "m")]
    )
    return _drop_share_button(ctx, reply) if step and step.contact_question else reply


async def use_offer(ctx: Ctx, shortcut: str) -> Reply:
    """The one-press answer of the step the shopper is on (a known value, or a skip)."""
    step = _current(ctx)
    offer = step.offer(ctx, _draft(ctx)) if step and step.offer else None
    if step is None or step.shortcut != shortcut or offer is None:
        return Reply(toast=ctx.t("error.not_available"))
    if offer.value is None:
        return await _answer(ctx, step, None)
    return await _answer_typed(ctx, step, offer.value)


_SHORTCUTS = [step.shortcut for step in STEPS if step.shortcut]
assert len(set(_SHORTCUTS)) == len(_SHORTCUTS) and not {"b", "x"} & set(_SHORTCUTS)
router.action(f"co:({'|'.join(_SHORTCUTS)})")(use_offer)


@router.action(r"co:d:(\d{1,9})")
async def choose_delivery(ctx: Ctx, method_id: str) -> Reply:
    method = await ctx.session.get(DeliveryMethod, int(method_id))
    if not _on_step(ctx, "delivery") or method is None or not method.active:
        return Reply(toast=ctx.t("error.not_available"))
    return await _answer(ctx, STEP["delivery"], method.id)


async def answer_phone(ctx: Ctx, text: str) -> Reply:
    """A phone shared with the messenger's button (the shopper is on the phone step)."""
    return await _answer_typed(ctx, STEP["phone"], text)


async def answer_text(ctx: Ctx, text: str) -> Reply:
    """Free text while on a checkout step is that step's answer."""
    step = _current(ctx)
    if step is None:  # a step an older version kept: begin again
        return await start_checkout(ctx)
    return await _answer_typed(ctx, step, text)


async def answer_media(ctx: Ctx) -> Reply:
    """A sticker or voice where a step wants text or a button: say so and ask again."""
    step = _current(ctx)
    if step is None:
        return await start_checkout(ctx)
    return await _ask(ctx, step, ctx.t(step.answer_kind()))


@router.action(r"co:ok")
async def confirm(ctx: Ctx) -> Reply:
    if not _on_step(ctx, "confirm"):
        return Reply(toast=ctx.t("error.not_available"))
    draft = _draft(ctx)
    method = await _method(ctx, draft)
    if method is None:
        return await _ask(ctx, STEP["delivery"])
    if draft.name is None or draft.phone is None:
        return await start_checkout(ctx)
    contact = Contact(
        name=draft.name,
        phone=draft.phone,
        address=draft.address if method.needs_address else None,
        comment=draft.comment,
        email=draft.email,
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
    ctx.state.data.pop(DRAFT, None)
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
    room = max(1, (ctx.caps.buttons_per_screen - 2) // 2)  # the last row has two buttons
    rows = [_held_row(ctx, order) for order in refused.held[-min(HELD_SHOWN, room) :]]
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
        return await _ask(ctx, STEP["confirm"], done)
    return ctx.screen(done, [ctx.button("btn.cart", "cart"), ctx.button("btn.orders", "o")])
