"""Support tickets in the core: times as staff read them, the SLA raise, reopening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from handlers.support_card import card, open_tickets_text
from shop import outbox
from shop.accounts import AccountRef, Channel
from shop.customers import get_or_create_customer
from shop.models import Direction, OutboxMessage, TicketMessage, TicketStatus
from shop.support import tickets

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
IVAN = AccountRef(Channel.TELEGRAM, 42)
STAFF = AccountRef(Channel.TELEGRAM, 7)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def test_first_response_and_resolution_times_as_the_card_and_list_show_them(sessions):
    async with sessions() as session, session.begin():
        ivan = await get_or_create_customer(session, IVAN, display_name="Иван")
        first = await tickets.open_ticket(session, ivan.id, IVAN, None, "Не пришёл", now=at(0))
        await tickets.staff_reply(session, first, STAFF, "Вера", "Проверяем", now=at(7))
        tickets.resolve(session, first, STAFF, "Вера", now=at(65))
        second = await tickets.open_ticket(session, ivan.id, IVAN, None, "И ещё", now=at(60))
        shown = (await card(session, first)).text
        listing = await open_tickets_text(session, now=at(100))
        stored = await session.scalars(
            select(TicketMessage.direction).where(TicketMessage.ticket_id == first.id)
        )
        directions = list(stored)
    assert "Первый ответ: 7 мин · Решено за: 1 ч 5 мин" in shown
    assert "Ранее" not in shown
    assert f"#{second.id} · без заказа · Иван · Telegram · ждёт 40 мин" in listing
    assert f"#{first.id} ·" not in listing  # resolved: not open any more
    assert directions == [Direction.SHOPPER, Direction.STAFF, Direction.EVENT]


async def test_a_waiting_ticket_is_raised_once_per_wait(sessions):
    async with sessions() as session, session.begin():
        ivan = await get_or_create_customer(session, IVAN, display_name="Иван")
        ticket = await tickets.open_ticket(session, ivan.id, IVAN, None, "Алло", now=at(0))
        early = await tickets.raise_overdue(session, 30, now=at(20))
        late = await tickets.raise_overdue(session, 30, now=at(45))
        again = await tickets.raise_overdue(session, 30, now=at(90))
        await tickets.staff_reply(session, ticket, STAFF, "Вера", "Да", now=at(91))
        await tickets.add_shopper_message(session, ticket, IVAN, "Ещё вопрос", now=at(100))
        rearmed = await tickets.raise_overdue(session, 30, now=at(140))
        raised = await session.scalars(
            select(OutboxMessage.payload).where(
                OutboxMessage.kind == tickets.POST_KIND,
                OutboxMessage.recipient == outbox.MODERATORS,
            )
        )
        minutes = [payload["minutes"] for payload in raised]
    assert (len(early), len(late), len(again), len(rearmed)) == (0, 1, 0, 1)
    assert minutes == [45, 40]


async def test_writing_within_a_week_reopens_a_resolved_ticket_later_starts_afresh(sessions):
    async with sessions() as session, session.begin():
        ivan = await get_or_create_customer(session, IVAN, display_name="Иван")
        ticket = await tickets.open_ticket(session, ivan.id, IVAN, None, "Сломано", now=at(0))
        tickets.resolve(session, ticket, STAFF, "Вера", now=at(10))
        assert await tickets.active_ticket(session, ivan.id, now=at(10 + 8 * 24 * 60)) is None
        found = await tickets.active_ticket(session, ivan.id, now=at(60))
        assert found is not None
        reopened = await tickets.add_shopper_message(session, found, IVAN, "Опять", now=at(60))
    assert reopened and found.status == TicketStatus.OPEN and found.resolved_at is None
