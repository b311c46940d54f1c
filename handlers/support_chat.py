"""The moderator chat: staff messages in a ticket's topic (or replies to its messages) go to
the shopper, "!" or /note keeps an internal note, the card's buttons act on the ticket.

Only staff and owners act here: anyone else is ignored, and every button checks the role on
the server. A message belongs to a ticket by its topic or by the message it replies to,
looked up by ids in the database, never by reading the text.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.context import Ctx, Router
from handlers.events import EventKind
from handlers.screens import Button, Reply, Screen, rows
from handlers.support import ask_rating, media_of
from handlers.support_card import LANG, card, open_tickets_text
from handlers.texts import t
from shop import audit, promo
from shop.errors import ShopError
from shop.models import Role, SavedReply, Ticket
from shop.models.types import utcnow
from shop.support import tickets
from shop.support.chat import current_chat, follow_migration

router = Router()

NOTE_MARK = "!"
SAVED_SHOWN = 20


async def _in_moderator_chat(ctx: Ctx) -> bool:
    """Whether the message was written in the moderator chat, under its current id too."""
    place, chat = ctx.event.place, ctx.options.moderator_chat
    if place is None or chat is None or chat.channel != ctx.event.account.channel:
        return False
    if place.chat_id == chat.external_id:
        return True
    return place.chat_id == await current_chat(ctx.session, chat.external_id)


async def _ticket_here(ctx: Ctx) -> Ticket | None:
    place = ctx.event.place
    assert place is not None
    return await tickets.find_in_chat(ctx.session, place.chat_id, place.thread_id, place.reply_to)


def _name(ctx: Ctx) -> str:
    return ctx.event.display_name or ctx.customer.display_name or str(ctx.event.account)


@router.in_group
async def staff_message(ctx: Ctx) -> Reply | None:
    """A message in the moderator chat: a service message followed, a staff command, a
    note, or an answer relayed to the shopper; anyone not staff is ignored."""
    if not await _in_moderator_chat(ctx):
        return None
    place = ctx.event.place
    assert place is not None
    if place.service:
        await _follow_service(ctx, place.service, place.migrate_to)
        return Reply()  # pinned messages, topics closed...: nothing to route
    if await ctx.role() == Role.SHOPPER:
        return Reply()  # not staff: ignored
    event = ctx.event
    if event.kind is EventKind.COMMAND and event.command == "tickets":
        return Reply([_chat_screen(await open_tickets_text(ctx.session))])
    if event.kind is EventKind.COMMAND and event.command == "saved":
        return await _saved(ctx)
    ticket = await _ticket_here(ctx)
    if ticket is not None:
        await _keep(ctx, ticket, place.message_id)
    return Reply()


async def _follow_service(ctx: Ctx, service: str, migrate_to: int) -> None:
    chat = ctx.options.moderator_chat
    if service == "migrate_to_chat_id" and migrate_to and chat is not None:
        await follow_migration(ctx.session, chat.external_id, migrate_to)


async def _keep(ctx: Ctx, ticket: Ticket, message_id: int) -> None:
    """A staff message of the ticket: an internal note ("!" or /note), else an answer."""
    event = ctx.event
    text = event.text.strip()[: tickets.MAX_TEXT]
    is_note = event.kind is EventKind.COMMAND and event.command == "note"
    if event.kind is EventKind.COMMAND and not is_note:
        return
    if is_note or text.startswith(NOTE_MARK):
        note = text if is_note else text[1:].strip()
        tickets.add_note(
            ctx.session, ticket, event.account, _name(ctx), note, chat_message_id=message_id
        )
        return
    media = media_of(ctx) if event.kind is EventKind.MEDIA else ()
    if text or media:  # a sticker, a voice message...: nothing the shopper's messenger shows
        await tickets.staff_reply(
            ctx.session, ticket, event.account, _name(ctx), text, media, chat_message_id=message_id
        )


def _chat_screen(text: str, *buttons: list[Button]) -> Screen:
    return Screen(text, rows(*buttons))


async def _saved(ctx: Ctx) -> Reply:
    """/saved lists canned answers as buttons; /saved add TEXT keeps a new one."""
    argument = ctx.event.text.strip()
    if argument.lower().startswith("add "):
        text = argument[4:].strip()[: tickets.MAX_TEXT]
        if text:
            ctx.session.add(SavedReply(text=text, created_by=str(ctx.event.account)))
            await audit.record(
                ctx.session, ctx.event.account, "ticket.saved_add", after={"text": text}
            )
            return Reply([_chat_screen(t(LANG, "chat.saved_added"))])
    ticket = await _ticket_here(ctx)
    if ticket is None:
        return Reply([_chat_screen(t(LANG, "chat.not_in_ticket"))])
    saved = list(
        (
            await ctx.session.scalars(select(SavedReply).order_by(SavedReply.id).limit(SAVED_SHOWN))
        ).all()
    )
    if not saved:
        return Reply([_chat_screen(t(LANG, "chat.saved_none"))])
    buttons = [
        [Button(_label(reply.text), action=f"sup:sv:{reply.id}:{ticket.id}")] for reply in saved
    ]
    return Reply([_chat_screen(t(LANG, "chat.saved"), *buttons)])


def _label(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= 40 else first[:39] + "…"


# -- the card's buttons (pressed in the chat; the role is checked here, on the server) --


async def _staff_ticket(ctx: Ctx, ticket_id: str, action: str) -> Ticket:
    await ctx.require(Role.STAFF, action)
    return await tickets.get_ticket(ctx.session, int(ticket_id))


async def _card_reply(ctx: Ctx, ticket: Ticket) -> Reply:
    """The card drawn again where it was pressed (the message is edited in place)."""
    screen = await card(ctx.session, ticket)
    return ctx.screen(screen.text, *[list(row) for row in screen.buttons])


@router.action(r"sup:take:(\d{1,9})")
async def take(ctx: Ctx, ticket_id: str) -> Reply:
    ticket = await _staff_ticket(ctx, ticket_id, "ticket.take")
    before = {"assignee": ticket.assignee}
    tickets.take(ctx.session, ticket, ctx.event.account, _name(ctx))
    await audit.record(
        ctx.session,
        ctx.event.account,
        "ticket.take",
        f"ticket:{ticket.id}",
        before,
        {"assignee": ticket.assignee},
    )
    return await _card_reply(ctx, ticket)


@router.action(r"sup:done:(\d{1,9})")
async def resolve(ctx: Ctx, ticket_id: str) -> Reply:
    ticket = await _staff_ticket(ctx, ticket_id, "ticket.resolve")
    before = {"status": str(ticket.status)}
    tickets.resolve(ctx.session, ticket, ctx.event.account, _name(ctx))
    await ask_rating(ctx, ticket)
    await audit.record(
        ctx.session,
        ctx.event.account,
        "ticket.resolve",
        f"ticket:{ticket.id}",
        before,
        {"status": str(ticket.status)},
    )
    return await _card_reply(ctx, ticket)


COMPENSATIONS = {"p10": (10, None), "p20": (20, None), "a50000": (None, 50000)}
"""What the compensate button offers: 10% or 20% off, or 500 ₽ (in kopecks)."""
COMPENSATION_DAYS = 30


@router.action(r"sup:comp:(\d{1,9})")
async def compensate(ctx: Ctx, ticket_id: str) -> Reply:
    """The terms to choose from; the code is issued by the next press."""
    ticket = await _staff_ticket(ctx, ticket_id, "ticket.compensate")
    screen = await card(ctx.session, ticket)
    choices = [
        Button(t(LANG, f"btn.chat_comp_{key}"), action=f"sup:comp:{ticket.id}:{key}")
        for key in COMPENSATIONS
    ]
    return ctx.screen(screen.text, choices, *[list(row) for row in screen.buttons])


@router.action(r"sup:comp:(\d{1,9}):(p10|p20|a50000)")
async def issue_compensation(ctx: Ctx, ticket_id: str, terms: str) -> Reply:
    """A one-time code bound to the ticket's customer (shop.promo audits it and sends it to
    the shopper with the apology)."""
    ticket = await _staff_ticket(ctx, ticket_id, "ticket.compensate")
    percent, amount = COMPENSATIONS[terms]
    code = await promo.issue(
        ctx.session,
        customer_id=ticket.customer_id,
        percent=percent,
        amount=amount,
        expires_at=utcnow() + timedelta(days=COMPENSATION_DAYS),
        issued_by=ctx.event.account,
        reason=f"ticket:{ticket.id}",
    )
    tickets.note_event(ctx.session, ticket, ctx.event.account, _name(ctx), f"promo {code.code}")
    reply = await _card_reply(ctx, ticket)
    reply.toast = t(LANG, "chat.compensated", code=code.code)
    return reply


@router.action(r"sup:refund:(\d{1,9})")
async def refund(ctx: Ctx, ticket_id: str) -> Reply:
    """Refunds go through the order card (the refund service there asks what to give back)."""
    ticket = await _staff_ticket(ctx, ticket_id, "ticket.refund")
    if ticket.order_id is None:
        raise ShopError("not_available")
    return ctx.screen(
        (await card(ctx.session, ticket)).text,
        [Button(t(LANG, "btn.chat_order"), action=f"desk:o:{ticket.order_id}")],
    )


@router.action(r"sup:sv:(\d{1,9}):(\d{1,9})")
async def saved_draft(ctx: Ctx, saved_id: str, ticket_id: str) -> Reply:
    """A tapped saved reply, shown as a draft to send as it is (or to edit and write)."""
    ticket = await _staff_ticket(ctx, ticket_id, "ticket.saved")
    saved = await ctx.session.get(SavedReply, int(saved_id))
    if saved is None:
        raise ShopError("not_available")
    return ctx.screen(
        t(LANG, "chat.saved_draft", ticket_id=ticket.id, text=saved.text),
        [Button(t(LANG, "btn.chat_send"), action=f"sup:svs:{saved.id}:{ticket.id}")],
    )


@router.action(r"sup:svs:(\d{1,9}):(\d{1,9})")
async def send_saved(ctx: Ctx, saved_id: str, ticket_id: str) -> Reply:
    ticket = await _staff_ticket(ctx, ticket_id, "ticket.saved")
    saved = await ctx.session.get(SavedReply, int(saved_id))
    if saved is None:
        raise ShopError("not_available")
    await tickets.staff_reply(ctx.session, ticket, ctx.event.account, _name(ctx), saved.text)
    return ctx.screen(t(LANG, "chat.saved_sent", ticket_id=ticket.id, text=saved.text))
