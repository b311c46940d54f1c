"""Paying without leaving Telegram: invoices, the YooKassa link, cash; paid exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.app import start
from bot.payment_webhooks import YOOKASSA_PATH
from shop.models import Order, OrderEvent, OrderStatus
from shop.models.types import utcnow
from tests.e2e.conftest import Shop, order_tote_bag, seen
from tests.emulators.yookassa import YooKassaEmulator

PROVIDER_TOKEN = "381764678:TEST:100500"


async def _status(shop: Shop) -> tuple[OrderStatus, int]:
    async with shop.runtime.sessions() as session:
        order = (await session.execute(select(Order))).scalar_one()
        paid = await session.scalar(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.to_status == "paid")
        )
    return order.status, paid


@pytest.fixture
async def invoice_shop(telegram, shop_settings) -> AsyncIterator[Shop]:
    settings = shop_settings(telegram_payments_provider_token=PROVIDER_TOKEN)
    runtime = await start(settings)
    yield Shop(telegram, settings.telegram_bot_token, runtime, settings)
    await runtime.stop()
    assert telegram.spec_warnings == []


async def test_invoice_paid_once_even_if_telegram_repeats_it(invoice_shop):
    alice = invoice_shop.user()
    await order_tote_bag(alice)
    await alice.press("Оплатить 790")
    assert alice.screen.invoice["total_amount"] == 79000
    result = await alice.pay()
    assert result.ok
    await alice.wait_for("оплачен")
    assert await _status(invoice_shop) == (OrderStatus.PAID, 1)
    await alice.send_raw(
        {"successful_payment": result.message.raw["successful_payment"]}, expect_reply=False
    )
    await invoice_shop.emu.settle(invoice_shop.token)
    assert await _status(invoice_shop) == (OrderStatus.PAID, 1)


async def test_pre_checkout_refuses_an_expired_order(invoice_shop):
    alice = invoice_shop.user()
    await order_tote_bag(alice)
    await alice.press("Оплатить")
    async with invoice_shop.runtime.sessions() as session, session.begin():
        await session.execute(update(Order).values(reserved_until=utcnow() - timedelta(minutes=1)))
    result = await alice.pay(expect_reply=False)
    assert not result.ok
    assert result.error_message == "Резерв по этому заказу истёк — оформите заказ заново."
    assert (await _status(invoice_shop))[1] == 0


async def test_pre_checkout_refuses_a_changed_total(invoice_shop):
    alice = invoice_shop.user()
    await order_tote_bag(alice)
    await alice.press("Оплатить")
    async with invoice_shop.runtime.sessions() as session, session.begin():
        await session.execute(update(Order).values(total=Order.total + 100))
    result = await alice.pay(expect_reply=False)
    assert (result.ok, result.error_message) == (
        False,
        "Сумма заказа изменилась. Откройте заказ и оплатите заново.",
    )


async def test_cash_on_delivery_where_the_method_allows_it(invoice_shop):
    alice = invoice_shop.user()
    await order_tote_bag(alice, delivery="Почта России")
    await alice.press("Оплачу при получении")
    assert alice.screen.text.startswith("Заказ №1 оплатите при получении")
    assert (await _status(invoice_shop))[0] == OrderStatus.ASSEMBLING


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


async def test_yookassa_link_paid_and_told_once(link_shop, yookassa):
    alice = link_shop.user()
    await order_tote_bag(alice)
    await alice.press("Оплатить 790")
    assert seen(alice.screen.text).startswith("Заказ №1: к оплате 790 ₽")
    button = await alice.press("Перейти к оплате")
    payment_id = button.data.rsplit("/", 1)[-1]
    assert button.data == yookassa.checkout_url(payment_id)
    await alice.press("К заказу")
    await alice.press("Оплатить 790")  # a second tap reuses the same payment
    assert len(yookassa.payments) == 1

    yookassa.pay(payment_id)
    for _ in range(10):
        assert await yookassa.notify(payment_id) == 200
    await alice.wait_for("оплачен")
    assert await _status(link_shop) == (OrderStatus.PAID, 1)
    assert all(r.idempotence_key for r in yookassa.requests if r.method == "POST")
