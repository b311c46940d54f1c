"""Checkout's steps: the optional e-mail for the receipt, skipping and going back, the draft."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers.conversation import Conversation
from payments.receipts import receipt_json
from shop.billing.receipts import receipt_for
from shop.conversation import State
from shop.models import Order
from tests.flows.person import Person


async def _to_the_email_step(person: Person, comment: str | None = None) -> None:
    await person.send("/start")
    await person.send("кружка" if person.language_code == "ru" else "mug")
    await person.action(next(b.action for r in person.screen.buttons for b in r))  # the mug
    await person.action(next(b.action for r in person.screen.buttons for b in r if "🛒" in b.text))
    await person.action("cart")
    await person.action("co")
    await person.action("co:n")  # the name the messenger gave
    await person.send("+7 900 123-45-67")
    await person.action(next(b.action for r in person.screen.buttons for b in r))  # pickup
    if comment:
        await person.send(comment)
    else:
        await person.action("co:c")


async def _order(demo) -> Order:
    async with demo() as session:
        query = select(Order).options(selectinload(Order.lines))
        return (await session.execute(query)).scalar_one()


@pytest.fixture
def alice(demo) -> Person:
    return Person(Conversation(demo), user_id=701)


async def test_an_email_for_the_receipt_is_checked_shown_and_kept_on_the_order(alice, demo):
    await _to_the_email_step(alice)
    assert alice.text.startswith("Прислать электронный чек на почту?")
    assert "Без чека на почту" in alice.buttons

    await alice.send("alice at example dot ru")
    assert alice.text.startswith("Не похоже на адрес почты. Напишите его целиком")
    assert "\n\nПрислать электронный чек на почту?" in alice.text  # asked again
    assert "Без чека на почту" in alice.buttons  # still skippable after a bad answer

    await alice.send("  Alice.Petrova@Example.RU ")
    assert "Чек на почту: Alice.Petrova@example.ru" in alice.text
    await alice.press("Подтвердить заказ")
    assert "оформлен" in alice.text

    order = await _order(demo)
    assert order.email == "Alice.Petrova@example.ru"
    receipt = receipt_for(order)
    assert (receipt.email, receipt.phone) == ("Alice.Petrova@example.ru", "79001234567")
    assert receipt_json(receipt)["customer"] == {
        "phone": "79001234567",
        "email": "Alice.Petrova@example.ru",
    }


async def test_the_email_step_is_skipped_with_one_press_in_english(demo):
    bob = Person(Conversation(demo), user_id=702, name="Bob", language_code="en")
    await _to_the_email_step(bob, comment="Call me first")
    assert bob.text.startswith("Send the electronic receipt to your e-mail?")
    await bob.send("bob@")
    assert bob.text.startswith("That does not look like an e-mail address.")
    await bob.press("No e-mail receipt")
    assert bob.text.startswith("Please check your order:")
    assert "Comment: Call me first" in bob.text
    assert "Receipt to" not in bob.text
    await bob.press("Confirm order")

    order = await _order(demo)
    assert (order.email, order.comment) == (None, "Call me first")
    assert receipt_json(receipt_for(order))["customer"] == {"phone": "79001234567"}


async def test_back_walks_the_steps_passing_over_the_address_for_pickup(alice):
    await _to_the_email_step(alice)
    await alice.press("Без чека на почту")
    assert alice.text.startswith("Проверьте заказ:")
    await alice.press("Назад")
    assert alice.text.startswith("Прислать электронный чек на почту?")
    await alice.press("Назад")
    assert alice.text.startswith("Комментарий к заказу")
    await alice.press("Назад")  # pickup needs no address: straight to delivery
    assert alice.text == "Как доставить заказ?"
    await alice.press("Назад")
    assert alice.screens[-2].text.startswith("Телефон для связи.")
    assert alice.screen.ask_contact == "📱 Отправить телефон"


async def test_a_sticker_or_text_where_a_button_is_wanted_re_asks(alice):
    await _to_the_email_step(alice)
    await alice.send_sticker()
    assert alice.text.startswith("Пожалуйста, ответьте текстом.\n\nПрислать электронный чек")
    await alice.press("Без чека на почту")
    await alice.send("да")
    assert alice.text.startswith("Пожалуйста, выберите один из вариантов кнопкой.\n\nПроверьте")


async def test_a_stale_skip_button_is_no_longer_available(alice):
    await _to_the_email_step(alice)
    reply = await alice.action("co:c")  # the comment's skip, pressed again on the e-mail step
    assert reply.toast == "Это больше недоступно."
    assert alice.text.startswith("Прислать электронный чек на почту?")


@dataclass
class _Draft:
    name: str | None = None
    count: int | None = None


def test_a_draft_read_back_keeps_only_what_fits_its_fields():
    state = State.stored_as("co:x", {"d": {"name": "Алиса", "count": True, "old": 1}})
    assert state.draft("d", _Draft) == _Draft(name="Алиса")
    state.keep("d", _Draft(count=2))
    assert state.data == {"d": {"count": 2}}
    assert state.changed
    assert State().draft("d", _Draft) == _Draft()
