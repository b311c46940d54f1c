"""A compensation promo code through the Telegram emulator: it arrives, the cart and the order
summary show the discount, the order and the receipt (invoice or YooKassa) carry it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.app import start
from bot.payment_webhooks import YOOKASSA_PATH
from shop import promo
from shop.accounts import AccountRef, Channel
from shop.models import ChannelAccount, Order, PromoCode
from shop.models.types import utcnow
from tests.e2e.conftest import Shop, eventually, seen
from tests.emulators.telegram import Person
from tests.emulators.yookassa import YooKassaEmulator

PROVIDER_TOKEN = "381764678:TEST:100500"
STAFF = AccountRef(Channel.TELEGRAM, 777)


async def compensate(shop: Shop, person: Person, percent: int) -> str:
    """What the support desk's "compensate" button does: a code for this shopper."""
    async with shop.runtime.sessions() as session, session.begin():
        customer_id = await session.scalar(
            select(ChannelAccount.customer_id).where(ChannelAccount.external_id == person.id)
        )
        assert customer_id is not None
        issued = await promo.issue(
            session,
            customer_id=customer_id,
            percent=percent,
            expires_at=utcnow() + timedelta(days=14),
            issued_by=STAFF,
            reason="the parcel was late",
        )
        return issued.code


async def summary_with_code(person: Person, code: str) -> None:
    """From the cart, check out the tote bag (790 ₽) up to the summary: 10% off shown."""
    await person.press("Оформить заказ")
    await person.press("Использовать")
    await person.send("+79001234567")
    await person.press("Самовывоз")
    await person.press("Без комментария")
    await person.press("Без чека на почту")
    summary = seen(person.screen.text)
    assert f"🎁 Промокод {code}: −79 ₽" in summary
    assert "Итого к оплате: 711 ₽" in summary


async def code_arrives_and_shows_in_the_cart(shop: Shop, alice: Person) -> str:
    await alice.send("/start")
    code = await compensate(shop, alice, percent=10)
    message = await alice.wait_for(code)
    assert "Просим прощения" in message.text and "скидка 10%" in message.text
    await alice.send("шопер")
    await alice.press("Шопер")
    await alice.press("В корзину")
    # the answer comes first, the photo's caption is edited after it
    await eventually(
        lambda: any("Перейти в корзину" in b for row in alice.screen.buttons for b in row)
    )
    await alice.press("Перейти в корзину")
    cart = seen(alice.screen.text)
    assert "Итого: 790 ₽" in cart
    assert f"🎁 Промокод {code}: −79 ₽" in cart and "Итого со скидкой: 711 ₽" in cart
    return code


async def stored_order(shop: Shop) -> Order:
    async with shop.runtime.sessions() as session:
        return (await session.execute(select(Order))).scalar_one()


@pytest.fixture
async def invoice_shop(telegram, shop_settings) -> AsyncIterator[Shop]:
    settings = shop_settings(telegram_payments_provider_token=PROVIDER_TOKEN)
    runtime = await start(settings)
    yield Shop(telegram, settings.telegram_bot_token, runtime, settings)
    await runtime.stop()
    assert telegram.spec_warnings == []


async def test_code_applies_once_and_the_invoice_carries_the_discount(invoice_shop):
    alice, bob = invoice_shop.user(), invoice_shop.user("Борис")
    code = await code_arrives_and_shows_in_the_cart(invoice_shop, alice)

    await bob.send(f"/promo {code}")
    assert "выдан другому покупателю" in bob.screen.text
    await alice.send(f"/promo {code.lower()}")
    assert f"Промокод {code} ваш" in alice.screen.text

    await alice.press("Корзина")
    await summary_with_code(alice, code)
    await alice.press("Подтвердить заказ")
    assert "Сумма: 711 ₽" in seen(alice.screen.text)
    order = await stored_order(invoice_shop)
    assert (order.items_total, order.discount, order.total) == (79_000, 7_900, 71_100)

    await alice.press("Оплатить 711")
    await eventually(lambda: alice.screen.invoice is not None)
    assert alice.screen.invoice["total_amount"] == 71_100
    terms = [m for _, m in sorted(alice.chat.messages.items()) if m.invoice][-1].invoice
    assert sum(int(price["amount"]) for price in terms["prices"]) == 71_100
    items = json.loads(terms["provider_data"])["receipt"]["items"]
    assert [(item["amount"]["value"], item["quantity"]) for item in items] == [("711.00", "1.00")]
    assert (await alice.pay()).ok
    await alice.wait_for("оплачен")

    await alice.send("шопер")
    await alice.press("Шопер")
    await alice.press("В корзину")
    await alice.press("Перейти в корзину")
    assert "Промокод" not in alice.screen.text  # used once only
    async with invoice_shop.runtime.sessions() as session:
        used = (await session.execute(select(PromoCode))).scalar_one()
    assert used.order_id == order.id and used.used_at is not None


@pytest.fixture
async def yookassa() -> AsyncIterator[YooKassaEmulator]:
    emu = YooKassaEmulator()
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
async def link_shop(telegram, yookassa, shop_settings) -> AsyncIterator[Shop]:
    shop_id, secret = yookassa.create_shop()
    settings = shop_settings(
        yookassa_shop_id=shop_id, yookassa_secret_key=secret, yookassa_api_url=yookassa.api_url
    )
    runtime = await start(settings)
    yookassa.set_notification_url(runtime.base_url + YOOKASSA_PATH)
    yield Shop(telegram, settings.telegram_bot_token, runtime, settings)
    await runtime.stop()


async def test_the_yookassa_payment_and_receipt_carry_the_discount(link_shop, yookassa):
    alice = link_shop.user()
    code = await code_arrives_and_shows_in_the_cart(link_shop, alice)
    await summary_with_code(alice, code)
    await alice.press("Подтвердить заказ")
    await alice.press("Оплатить 711")
    assert seen(alice.screen.text).startswith("Заказ №1: к оплате 711 ₽")
    (payment,) = yookassa.payments.values()
    assert payment.amount == Decimal("711.00")
    lines = payment.receipt["items"]
    assert sum(Decimal(i["amount"]["value"]) * Decimal(i["quantity"]) for i in lines) == 711
