"""The conversation asks the channel what it can do (Capabilities), never its name; a Pay
press answers a neutral PayOrder that each front-end makes into its own means."""

from __future__ import annotations

from bot.frontend import Answering
from handlers.context import Options
from handlers.conversation import Conversation
from handlers.events import Capabilities, Event, EventKind
from handlers.screens import PayOrder
from shop.accounts import AccountRef, Channel
from tests.core.payment_helpers import FakeGateway
from tests.flows.person import Person

PLAIN = Capabilities()  # no contact control, no invoice of its own
INVOICE = Capabilities(share_contact=True, native_invoice=True)


async def _order_a_mug(person: Person, phone: str = "+79001234567") -> int:
    """Check out one mug, typing the phone; return the order's number."""
    await person.send("/start")
    await person.send("кружка")
    await person.action(next(b.action for r in person.screen.buttons for b in r))
    await person.action(next(b.action for r in person.screen.buttons for b in r if "🛒" in b.text))
    await person.action("cart")
    await person.action("co")
    await person.action("co:n")
    await person.send(phone)
    await person.action(next(b.action for r in person.screen.buttons for b in r))  # pickup
    await person.action("co:c")
    await person.action("co:e")
    await person.press("Подтвердить заказ")
    assert "оформлен" in person.text
    return int(person.text.split("№")[1].split()[0])


async def test_a_channel_without_a_contact_control_asks_to_type_the_phone(demo):
    bob = Person(Conversation(demo), user_id=601, caps=PLAIN)
    await bob.send("/start")
    await bob.send("кружка")
    await bob.action(next(b.action for r in bob.screen.buttons for b in r))
    await bob.action(next(b.action for r in bob.screen.buttons for b in r if "🛒" in b.text))
    await bob.action("cart")
    await bob.action("co")
    await bob.action("co:n")
    assert bob.last is not None
    assert all(screen.ask_contact is None for screen in bob.last.screens)


async def test_without_invoice_or_gateway_no_pay_button_is_offered(demo):
    carol = Person(Conversation(demo), user_id=602, caps=PLAIN)
    await _order_a_mug(carol)
    assert not any("Оплатить" in label for label in carol.buttons)


async def test_a_pay_press_answers_a_neutral_pay_order_where_the_channel_has_invoices(demo):
    dan = Person(Conversation(demo), user_id=603, caps=INVOICE)
    order_id = await _order_a_mug(dan)
    await dan.press("Оплатить")
    (screen,) = dan.last.screens if dan.last else ()
    assert screen.pay is not None and screen.pay.order_id == order_id
    assert isinstance(screen.pay, PayOrder) and screen.buttons == ()


async def test_elsewhere_the_pay_order_becomes_a_link_back_to_the_channel(demo):
    gateway = FakeGateway()
    conversation = Conversation(demo, Options(gateway=gateway))
    erin = Person(conversation, user_id=604, caps=PLAIN)
    order_id = await _order_a_mug(erin)
    caps = Capabilities(return_url="https://example.org/chat")
    answering = Answering(conversation, demo, Channel.CONSOLE, lambda: caps, lambda e: False)
    event = Event(
        account=AccountRef(Channel.TELEGRAM, 604),
        kind=EventKind.ACTION,
        action=f"pay:{order_id}",
        caps=caps,
    )
    reply = await answering.reply(event)
    (screen,) = reply.screens
    assert screen.pay is None
    link = screen.buttons[0][0]
    assert link.url and link.url.startswith("http") and link.text == "💳 Перейти к оплате"
    assert len(gateway.payments) == 1
