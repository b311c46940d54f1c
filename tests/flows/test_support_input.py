"""Support's bad input: other people's orders and tickets, forged staff buttons, empty and
huge complaints, a ticket's free text kept apart from checkout."""

from __future__ import annotations

from sqlalchemy import func, select

from handlers.conversation import Conversation
from handlers.events import EventKind
from shop.models import AuditEntry, Ticket, TicketMessage
from tests.flows.person import Person

NOT_AVAILABLE = "Это больше недоступно."


async def test_forged_support_buttons_and_junk_change_nothing(demo):
    conversation = Conversation(demo)
    alice = Person(conversation, user_id=21)
    mallory = Person(conversation, user_id=22, name="Мэллори")
    await alice.send("/support")
    await alice.press("Не по заказу")
    await alice.send("   ")
    assert alice.text.startswith("Напишите хотя бы пару слов")
    await alice.send("x" * 10_000)
    assert alice.text.startswith("Обращение №1 открыто")

    await mallory.send("/start")
    for forged in ("sup:o:1", "sup:x:1", "sup:r:1:5", "sup:take:1", "sup:done:1", "sup:comp:1"):
        await mallory.action(forged)
        assert mallory.last is not None and mallory.last.toast in (
            NOT_AVAILABLE,
            "Это доступно только сотрудникам магазина.",
        ), (forged, mallory.last.toast)
    await mallory.action("sup:r:1:9")  # no such rating: no such action
    assert mallory.last is not None and mallory.last.toast == NOT_AVAILABLE
    await alice.action("sup:r:1:5")  # not resolved yet: nothing to rate
    assert alice.last is not None and alice.last.toast == NOT_AVAILABLE

    async with demo() as session:
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None
        assert (ticket.status, ticket.rating, ticket.assignee) == ("open", None, None)
        [text] = (await session.scalars(select(TicketMessage.text))).all()
        assert len(text) == 4000
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_free_text_goes_to_the_open_ticket_until_the_shopper_closes_it(demo):
    alice = Person(Conversation(demo), user_id=23)
    await alice.send("/support")
    await alice.press("Не по заказу")
    await alice.send("Не пришёл чек")
    await alice.send("шопер")
    assert alice.text == "Добавлено к обращению №1."
    await alice._send(kind=EventKind.MEDIA)  # a sticker: nothing the ticket can keep
    assert alice.text.startswith("Я понимаю текст и кнопки")
    await alice.send("ещё одно")
    await alice.press("Закрыть обращение")
    assert alice.text.startswith("Обращение №1 закрыто")
    await alice.send("шопер")
    assert alice.text.startswith("Нашлось по запросу «шопер»")  # the catalog search again
    async with demo() as session:
        texts = (await session.scalars(select(TicketMessage.text).order_by(TicketMessage.id))).all()
    assert list(texts) == ["Не пришёл чек", "шопер", "ещё одно", "closed by shopper"]
