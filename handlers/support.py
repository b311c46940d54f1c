"""Help / complaint, the shopper's side: pick the order, tell what happened, follow up,
close the ticket, rate the help. Written once for every messenger."""

from __future__ import annotations

from handlers.context import Ctx, Router
from handlers.events import EventKind
from handlers.format import local_date, money
from handlers.screens import Button, Reply, Screen, rows, screen_to_payload
from handlers.texts import t
from shop import outbox
from shop.models import Customer, Ticket, TicketStatus
from shop.orders import get_order, list_orders
from shop.support import tickets
from shop.support.tickets import Media

router = Router()

STEP_TEXT = "sup:text"
STEP_COMMENT = "sup:comment"
RECENT_ORDERS = 5
MAX_COMMENT = 1000


def media_of(ctx: Ctx) -> tuple[Media, ...]:
    channel = ctx.event.account.channel.value
    return tuple(Media(a.kind, a.ref, a.name, channel) for a in ctx.event.media)


def _ticket_buttons(ctx: Ctx, ticket_id: int) -> list[list[Button]]:
    return [
        [ctx.button("btn.support_close", f"sup:x:{ticket_id}")],
        [ctx.button("btn.support_new", "sup:new"), ctx.button("btn.menu", "m")],
    ]


@router.action(r"sup")
@router.command("support")
async def start_support(ctx: Ctx) -> Reply:
    """An open ticket is offered first (writing goes to it); else a new one."""
    ctx.state.step = None
    ticket = await tickets.active_ticket(ctx.session, ctx.customer.id)
    if ticket is not None and ticket.status in tickets.ACTIVE:
        return ctx.screen(
            ctx.t("support.have_open", ticket_id=ticket.id), *_ticket_buttons(ctx, ticket.id)
        )
    return await choose_order(ctx)


@router.action(r"sup:new")
async def choose_order(ctx: Ctx) -> Reply:
    orders = await list_orders(ctx.session, ctx.customer.id, limit=RECENT_ORDERS)
    buttons = [
        [
            ctx.button(
                "support.order_line",
                f"sup:o:{o.id}",
                order_id=o.id,
                date=local_date(o.created_at),
                total=money(o.total),
            )
        ]
        for o in orders
    ]
    return ctx.screen(
        ctx.t("support.choose"),
        *buttons,
        [ctx.button("btn.support_no_order", "sup:o:0")],
        [ctx.button("btn.menu", "m")],
    )


@router.action(r"sup:o:(\d{1,9})")
async def describe(ctx: Ctx, order_id: str) -> Reply:
    """Remember the chosen order (checked to be theirs) and ask what happened."""
    chosen = int(order_id)
    if chosen:
        await get_order(ctx.session, chosen, customer_id=ctx.customer.id)
    ctx.state.step = STEP_TEXT
    ctx.state.data["sup_order"] = chosen
    text = ctx.t("support.describe_order", order_id=chosen) if chosen else ctx.t("support.describe")
    return ctx.screen(text, [ctx.button("btn.menu", "m")])


@router.step(STEP_TEXT)
async def open_from_text(ctx: Ctx) -> Reply:
    text = ctx.event.text.strip()[: tickets.MAX_TEXT]
    media = media_of(ctx) if ctx.event.kind is EventKind.MEDIA else ()
    if not text and not media:
        return ctx.screen(ctx.t("support.empty"), [ctx.button("btn.menu", "m")])
    chosen = ctx.state.data.pop("sup_order", 0)
    ticket = await tickets.open_ticket(
        ctx.session,
        ctx.customer.id,
        ctx.event.account,
        chosen if isinstance(chosen, int) and chosen else None,
        text,
        media,
        author_name=ctx.customer.display_name,
        source_message_id=ctx.event.message_id,
    )
    ctx.state.step = None
    return ctx.screen(
        ctx.t("support.opened", ticket_id=ticket.id), *_ticket_buttons(ctx, ticket.id)
    )


@router.free_input
async def follow_up(ctx: Ctx) -> Reply | None:
    """While a ticket is open (or resolved within a week), what the shopper writes goes to it."""
    if ctx.state.step:  # in the middle of something else (checkout): not for the ticket
        return None
    ticket = await tickets.active_ticket(ctx.session, ctx.customer.id)
    if ticket is None:
        return None
    media = media_of(ctx)
    text = ctx.event.text.strip()[: tickets.MAX_TEXT]
    if not text and not media:
        return None
    reopened = await tickets.add_shopper_message(
        ctx.session,
        ticket,
        ctx.event.account,
        text,
        media,
        author_name=ctx.customer.display_name,
        source_message_id=ctx.event.message_id,
    )
    key = "support.reopened" if reopened else "support.added"
    return ctx.screen(ctx.t(key, ticket_id=ticket.id), *_ticket_buttons(ctx, ticket.id))


@router.action(r"sup:x:(\d{1,9})")
async def close(ctx: Ctx, ticket_id: str) -> Reply:
    ticket = await tickets.customer_ticket(ctx.session, int(ticket_id), ctx.customer.id)
    if ticket.status != TicketStatus.CLOSED:
        tickets.close_by_shopper(ctx.session, ticket)
    return ctx.screen(ctx.t("support.closed", ticket_id=ticket.id), [ctx.button("btn.menu", "m")])


@router.action(r"sup:r:(\d{1,9}):([1-5])")
async def rate(ctx: Ctx, ticket_id: str, rating: str) -> Reply:
    ticket = await tickets.customer_ticket(ctx.session, int(ticket_id), ctx.customer.id)
    await tickets.rate(ctx.session, ticket, int(rating))
    ctx.state.step = STEP_COMMENT
    ctx.state.data["sup_rated"] = ticket.id
    return ctx.screen(
        ctx.t("support.rated", rating=rating), [ctx.button("btn.support_skip", "sup:skip")]
    )


@router.action(r"sup:skip")
async def skip_comment(ctx: Ctx) -> Reply:
    ctx.state.step = None
    ctx.state.data.pop("sup_rated", None)
    return ctx.screen(ctx.t("support.commented"), [ctx.button("btn.menu", "m")])


@router.step(STEP_COMMENT)
async def comment(ctx: Ctx) -> Reply:
    text = ctx.event.text.strip()[:MAX_COMMENT]
    ticket_id = ctx.state.data.pop("sup_rated", 0)
    ctx.state.step = None
    if text and isinstance(ticket_id, int):
        ticket = await tickets.customer_ticket(ctx.session, ticket_id, ctx.customer.id)
        ticket.rating_comment = text
    return ctx.screen(ctx.t("support.commented"), [ctx.button("btn.menu", "m")])


async def ask_rating(ctx: Ctx, ticket: Ticket) -> None:
    """Tell the shopper their ticket is resolved, in their language, with 1–5 to tap."""
    lang = await ctx.session.get(Customer, ticket.customer_id)
    language = lang.language if lang is not None else "ru"
    stars = [Button(str(n), action=f"sup:r:{ticket.id}:{n}") for n in range(1, 6)]
    screen = Screen(
        t(language, "support.resolved", ticket_id=ticket.id),
        rows(stars, [Button(t(language, "btn.menu"), action="m")]),
    )
    outbox.enqueue(
        ctx.session,
        "screen",
        {"screen": screen_to_payload(screen)},
        customer_id=ticket.customer_id,
        recipient=ticket.account,
    )
