"""Compensation promo codes: issued to one customer, applied once at checkout, the receipt exact."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from handlers.notifications import render_notification
from payments.receipts import receipt_json
from payments.telegram import invoice_for
from shop import promo
from shop.accounts import AccountRef, Channel
from shop.billing import refund_order, sync_payment
from shop.billing.receipts import receipt_for
from shop.checkout import PlacedOrder
from shop.discounts import MIN_UNIT_PRICE, per_unit
from shop.errors import ShopError
from shop.models import AuditEntry, Category, Order, OutboxMessage, Product, PromoCode, Variant
from shop.models.types import utcnow
from shop.orders import get_order
from shop.reservations import cancel_unpaid_order, expire_unpaid_orders
from tests.core.helpers import checkout, fill_cart, new_customer, small_shop
from tests.core.payment_helpers import pay_at_gateway

STAFF = AccountRef(Channel.TELEGRAM, 900)


async def give(sessions, customer_id, *, days=7, **value) -> PromoCode:
    async with sessions() as session, session.begin():
        return await promo.issue(
            session,
            customer_id=customer_id,
            expires_at=utcnow() + timedelta(days=days),
            issued_by=STAFF,
            reason="late delivery",
            **value,
        )


async def stored_code(sessions, code_id) -> PromoCode:
    async with sessions() as session:
        found = await session.get(PromoCode, code_id)
        assert found is not None
        return found


async def test_issue_stores_a_typable_code_audits_it_and_tells_the_shopper(sessions):
    alice = await new_customer(sessions, 1)
    code = await give(sessions, alice, percent=15)
    assert code.code.startswith("SORRY-") and len(code.code) == 11
    assert set(code.code[6:]) <= set(promo.ALPHABET)
    async with sessions() as session:
        audit = (await session.execute(select(AuditEntry))).scalar_one()
        message = (await session.execute(select(OutboxMessage))).scalar_one()
    assert (audit.actor, audit.action, audit.subject) == (
        "telegram:900",
        "promo.issue",
        f"customer:{alice}",
    )
    assert audit.after["code"] == code.code and audit.after["reason"] == "late delivery"
    assert (message.kind, message.customer_id) == ("promo_code", alice)
    assert message.payload["code"] == code.code and message.payload["percent"] == 15


async def test_codes_are_unique(sessions):
    alice = await new_customer(sessions, 1)
    codes = [await give(sessions, alice, amount=100_00) for _ in range(20)]
    assert len({code.code for code in codes}) == 20


@pytest.mark.parametrize(
    "value",
    [{"percent": 0}, {"percent": 100}, {"amount": 0}, {"percent": 10, "amount": 500}, {}],
)
async def test_bad_terms_are_refused_and_nothing_is_written(sessions, value):
    alice = await new_customer(sessions, 1)
    with pytest.raises(ShopError) as refused:
        await give(sessions, alice, **value)
    assert refused.value.code == "promo_bad_value"
    with pytest.raises(ShopError) as refused:
        await give(sessions, alice, days=-1, percent=10)
    assert refused.value.code == "promo_bad_expiry"
    async with sessions() as session:
        assert (await session.execute(select(PromoCode))).first() is None
        assert (await session.execute(select(AuditEntry))).first() is None


async def test_the_code_applies_at_the_next_checkout_once_only(sessions):
    variants = await small_shop(sessions, [10, 10], price=12_345)
    alice = await new_customer(sessions, 1)
    code = await give(sessions, alice, percent=10)
    await fill_cart(sessions, alice, {variants[0]: 2, variants[1]: 1})
    first = await checkout(sessions, alice)
    assert (first.items_total, first.discount, first.total) == (37_035, 3_703, 33_332)
    async with sessions() as session:
        order = await get_order(session, first.id)
    assert (order.discount, order.total) == (3_703, 33_332)
    assert sum(line.discount for line in order.lines) == 3_703
    used = await stored_code(sessions, code.id)
    assert used.used_at is not None and used.order_id == first.id

    await fill_cart(sessions, alice, {variants[0]: 1})
    second = await checkout(sessions, alice)
    assert (second.discount, second.total) == (0, 12_345)
    async with sessions() as session:
        with pytest.raises(ShopError) as refused:
            await promo.check(session, code.code, alice)
    assert refused.value.code == "promo_used"


async def test_an_amount_never_takes_the_order_below_a_rouble_a_unit(sessions):
    (variant,) = await small_shop(sessions, [10], price=500)
    alice = await new_customer(sessions, 1)
    await give(sessions, alice, amount=100_000)
    await fill_cart(sessions, alice, {variant: 3})
    placed = await checkout(sessions, alice)
    assert (placed.discount, placed.total) == (1_200, 300)


async def test_two_concurrent_uses_of_one_code_give_one_discount(sessions):
    (variant,) = await small_shop(sessions, [10])
    alice = await new_customer(sessions, 1)
    orders = []
    for _ in range(2):
        await fill_cart(sessions, alice, {variant: 1})
        orders.append((await checkout(sessions, alice)).id)
    code = await give(sessions, alice, percent=20)

    async def use(order_id: int) -> str:
        try:
            async with sessions() as session, session.begin():
                await promo.consume(session, code.id, alice, order_id, utcnow())
        except ShopError as refused:
            return refused.code
        return "used"

    outcomes = await asyncio.gather(*(use(order_id) for order_id in orders))
    assert sorted(outcomes) == ["promo_used", "used"]
    assert (await stored_code(sessions, code.id)).order_id in orders


async def test_two_concurrent_checkouts_use_the_code_once(sessions):
    (variant,) = await small_shop(sessions, [10])
    alice = await new_customer(sessions, 1)
    await give(sessions, alice, amount=1_000)
    await fill_cart(sessions, alice, {variant: 2})

    async def buy() -> PlacedOrder | str:
        try:
            return await checkout(sessions, alice)
        except ShopError as refused:
            return refused.code

    outcomes = await asyncio.gather(buy(), buy())
    placed = [outcome for outcome in outcomes if isinstance(outcome, PlacedOrder)]
    assert len(placed) == 1 and placed[0].discount == 1_000
    async with sessions() as session:
        discounts = (await session.execute(select(Order.discount))).scalars().all()
    assert discounts == [1_000]


async def test_another_customers_code_is_refused_and_not_applied(sessions):
    (variant,) = await small_shop(sessions, [10])
    alice, bob = await new_customer(sessions, 1), await new_customer(sessions, 2)
    code = await give(sessions, alice, percent=50)
    async with sessions() as session:
        with pytest.raises(ShopError) as refused:
            await promo.check(session, code.code.lower(), bob)
        assert refused.value.code == "promo_not_yours"
        with pytest.raises(ShopError) as refused:
            await promo.check(session, "SORRY-NOPE1", bob)
        assert refused.value.code == "promo_unknown"
        assert (await promo.check(session, code.code[6:].lower(), alice)).id == code.id
    await fill_cart(sessions, bob, {variant: 1})
    assert (await checkout(sessions, bob)).discount == 0
    assert (await stored_code(sessions, code.id)).used_at is None


async def test_an_expired_code_is_refused_and_not_applied(sessions):
    (variant,) = await small_shop(sessions, [10])
    alice = await new_customer(sessions, 1)
    code = await give(sessions, alice, percent=50)
    async with sessions() as session, session.begin():
        stored = await session.get(PromoCode, code.id)
        stored.expires_at = utcnow() - timedelta(minutes=1)
    async with sessions() as session:
        with pytest.raises(ShopError) as refused:
            await promo.check(session, code.code, alice)
    assert refused.value.code == "promo_expired"
    await fill_cart(sessions, alice, {variant: 1})
    assert (await checkout(sessions, alice)).discount == 0
    assert (await stored_code(sessions, code.id)).used_at is None


async def test_an_order_cancelled_unpaid_gives_the_code_back(sessions):
    (variant,) = await small_shop(sessions, [10])
    alice = await new_customer(sessions, 1)
    code = await give(sessions, alice, percent=10)
    await fill_cart(sessions, alice, {variant: 1})
    first = await checkout(sessions, alice)
    async with sessions() as session, session.begin():
        await cancel_unpaid_order(session, first.id, alice)
    assert (await stored_code(sessions, code.id)).used_at is None
    await fill_cart(sessions, alice, {variant: 1})
    second = await checkout(sessions, alice)
    assert second.discount == 1_000
    assert await expire_unpaid_orders(sessions, utcnow() + timedelta(hours=1)) == [second.id]
    assert (await stored_code(sessions, code.id)).used_at is None


async def test_a_late_payment_takes_the_released_code_again(sessions, gateway):
    (variant,) = await small_shop(sessions, [5])
    alice = await new_customer(sessions, 1)
    code = await give(sessions, alice, percent=10)
    await fill_cart(sessions, alice, {variant: 1})
    placed = await checkout(sessions, alice)
    payment_id = await pay_at_gateway(sessions, gateway, placed, alice)
    assert await expire_unpaid_orders(sessions, utcnow() + timedelta(hours=1)) == [placed.id]
    assert (await stored_code(sessions, code.id)).used_at is None

    await sync_payment(sessions, gateway, payment_id, "webhook")

    async with sessions() as session:
        order = await get_order(session, placed.id)
    assert (order.status, order.total) == ("paid", 9_000)
    used = await stored_code(sessions, code.id)
    assert used.used_at is not None and used.order_id == placed.id


async def test_receipt_and_invoice_list_discounted_prices_adding_up_to_the_total(sessions):
    async with sessions() as session, session.begin():
        category = Category(title="Тест")
        product = Product(title="Товар", category=category)
        product.variants = [
            Variant(sku="A", size="A", price=33_333, stock=9),
            Variant(sku="B", size="B", price=1_999, stock=9),
            Variant(sku="C", size="C", price=101, stock=9),
        ]
        from shop.models import DeliveryMethod

        session.add_all(
            [category, product, DeliveryMethod(code="pickup", title="Самовывоз", price=30_000)]
        )
        await session.flush()
        variants = [variant.id for variant in product.variants]
    alice = await new_customer(sessions, 1)
    await give(sessions, alice, percent=17)
    await fill_cart(sessions, alice, {variants[0]: 3, variants[1]: 7, variants[2]: 2})
    placed = await checkout(sessions, alice)
    async with sessions() as session:
        order = await get_order(session, placed.id)
    receipt = receipt_for(order)
    wanted = (3 * 33_333 + 7 * 1_999 + 2 * 101) * 17 // 100
    assert wanted - 7 < placed.discount <= wanted  # whole kopecks a unit: a little less
    assert receipt.total == order.total == placed.total
    assert all(line.unit_price >= MIN_UNIT_PRICE for line in receipt.lines)
    body = receipt_json(receipt)
    in_kopecks = sum(
        Decimal(item["amount"]["value"]) * 100 * Decimal(item["quantity"]) for item in body["items"]
    )
    assert in_kopecks == order.total
    invoice = invoice_for(order)
    assert sum(amount for _, amount in invoice.prices) == order.total
    assert '"receipt"' in invoice.provider_data


def test_per_unit_shares_are_whole_kopecks_and_add_up():
    chance = random.Random(14)
    for _ in range(2_000):
        lines = [
            (chance.randint(100, 50_000), chance.randint(1, 9)) for _ in range(chance.randint(1, 6))
        ]
        total = sum(price * quantity for price, quantity in lines)
        units = sum(quantity for _, quantity in lines)
        wanted = chance.randint(0, (total - units * MIN_UNIT_PRICE) // 2)
        shares = per_unit(wanted, lines)
        given = sum(share * quantity for share, (_, quantity) in zip(shares, lines, strict=True))
        assert wanted - max(quantity for _, quantity in lines) < given <= wanted
        assert all(
            0 <= share <= price - MIN_UNIT_PRICE
            for share, (price, _) in zip(shares, lines, strict=True)
        )
        backwards = per_unit(wanted, lines[::-1])
        assert given == sum(  # the same total whatever the order of the lines
            share * quantity for share, (_, quantity) in zip(backwards, lines[::-1], strict=True)
        )


async def test_refunds_of_some_units_add_up_to_the_discounted_total(sessions, gateway):
    variants = await small_shop(sessions, [5, 5])
    alice = await new_customer(sessions, 1)
    await give(sessions, alice, amount=1_001)
    await fill_cart(sessions, alice, {variants[0]: 3, variants[1]: 2})
    placed = await checkout(sessions, alice)
    assert (placed.discount, placed.total) == (1_000, 49_000)  # 2 ₽ a unit, 1 kopeck less
    payment_id = await pay_at_gateway(sessions, gateway, placed, alice)
    await sync_payment(sessions, gateway, payment_id, "webhook")
    async with sessions() as session:
        order = await get_order(session, placed.id)
    first = await refund_order(sessions, gateway, order.id, "staff", {order.lines[0].id: 1})
    rest = await refund_order(sessions, gateway, order.id, "staff")
    assert (first.amount, rest.amount) == (9_800, 39_200)
    assert rest.order_status == "refunded"


async def test_a_code_for_no_such_customer_is_refused(sessions):
    with pytest.raises(ShopError) as refused:
        await give(sessions, 12_345, percent=10)
    assert refused.value.code == "not_available"
    async with sessions() as session:
        assert (await session.execute(select(AuditEntry))).first() is None


async def test_the_shopper_reads_the_code_in_their_language(sessions):
    alice = await new_customer(sessions, 1)
    await give(sessions, alice, amount=50_000)
    async with sessions() as session:
        message = (await session.execute(select(OutboxMessage))).scalar_one()
    russian = render_notification(message.kind, message.payload, "ru")
    english = render_notification(message.kind, message.payload, "en")
    assert russian is not None and english is not None
    code = message.payload["code"]
    assert f"промокод {code}: скидка 500\u00a0₽" in russian.text
    assert f"promo code {code}: 500\u00a0₽ off" in english.text
