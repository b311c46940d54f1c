"""A shopper who holds too much unpaid is told the limit and how to make room."""

from __future__ import annotations

from sqlalchemy import func, select

from handlers.context import Options
from handlers.conversation import Conversation
from shop.models import Order, OrderStatus
from tests.flows.person import Person


async def _check_out_a_mug(person: Person, *, phone: str | None, confirm: str) -> None:
    await person.send("кружка" if person.language_code == "ru" else "mug")
    await person.action(next(b.action for r in person.screen.buttons for b in r))  # the mug
    await person.action(next(b.action for r in person.screen.buttons for b in r if "🛒" in b.text))
    await person.action("cart")
    await person.action("co")
    await person.action("co:n")  # the name the messenger gave
    if phone:
        await person.share_contact(phone)
    else:
        await person.action("co:p")  # the phone kept from the last order
    await person.action(next(b.action for r in person.screen.buttons for b in r))  # pickup
    await person.action("co:c")  # no comment
    await person.action("co:e")  # no e-mail receipt
    await person.press(confirm)


async def _orders(demo, status: OrderStatus) -> int:
    async with demo() as session:
        return await session.scalar(
            select(func.count()).select_from(Order).where(Order.status == status)
        )


async def test_the_fourth_unpaid_order_is_refused_until_one_is_cancelled(demo):
    alice = Person(Conversation(demo), user_id=501)
    await alice.send("/start")
    await _check_out_a_mug(alice, phone="+7 900 123-45-67", confirm="Подтвердить заказ")
    for _ in range(2):
        await _check_out_a_mug(alice, phone=None, confirm="Подтвердить заказ")
    assert "оформлен" in alice.text

    await _check_out_a_mug(alice, phone=None, confirm="Подтвердить заказ")

    assert alice.text.startswith(
        "Не получилось оформить заказ: одновременно можно держать не больше 3 неоплаченных "
        "заказов с резервом товара, а у вас их уже 3."
    )
    assert "Оплатите или отмените один из них" in alice.text
    assert alice.buttons[:2] == ["📦 Заказ №1 — 690\u00a0₽", "✖️ Отменить №1"]
    assert await _orders(demo, OrderStatus.AWAITING_PAYMENT) == 3

    await alice.press("Отменить №2")
    assert alice.text.startswith("Заказ №2 отменён, резерв снят.\n\nПроверьте заказ:")
    await alice.press("Подтвердить заказ")
    assert alice.text.startswith("Заказ №4 оформлен!")
    assert await _orders(demo, OrderStatus.AWAITING_PAYMENT) == 3
    assert await _orders(demo, OrderStatus.CANCELLED) == 1


async def test_units_of_one_item_over_the_limit_are_refused_in_english(demo):
    bob = Person(
        Conversation(demo, Options(max_units_per_sku=1)),
        user_id=502,
        name="Bob",
        language_code="en",
    )
    await bob.send("/start")
    await _check_out_a_mug(bob, phone="+7 900 765-43-21", confirm="Confirm order")
    assert "is placed" in bob.text

    await _check_out_a_mug(bob, phone=None, confirm="Confirm order")

    assert bob.text.startswith(
        "Could not place the order: you may hold at most 1 pcs of one item in unpaid orders.\n"
        "• Кружка керамическая «Утро» (белая): 1 in the cart, 1 already in unpaid orders\n"
        "Reduce the quantity in your cart, or pay for or cancel an unpaid order"
    )
    assert bob.buttons[:2] == ["📦 Order #1 — 690\u00a0₽", "✖️ Cancel #1"]
    assert await _orders(demo, OrderStatus.AWAITING_PAYMENT) == 1
