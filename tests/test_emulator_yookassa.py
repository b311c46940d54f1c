"""The YooKassa emulator against the real yookassa SDK: it accepts and refuses what the API does."""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yookassa import Configuration, Payment, Refund
from yookassa.domain.common import SecurityHelper
from yookassa.domain.exceptions import (
    BadRequestError,
    InternalServerError,
    NotFoundError,
    ResponseProcessingError,
    UnauthorizedError,
)
from yookassa.domain.models import Receipt, ReceiptItem
from yookassa.domain.notification import (
    RefundWebhookNotification,
    WebhookNotification,
    WebhookNotificationFactory,
)
from yookassa.domain.request import PaymentRequestBuilder

from tests.emulators.yookassa import YooKassaEmulator

RETURN_URL = "https://t.me/demo_shop_bot"


def rub(value: str) -> dict[str, str]:
    return {"value": value, "currency": "RUB"}


def order_params(total: str = "150.00", *, capture: bool = True, **extra: Any) -> dict[str, Any]:
    """A payment for two lines: 2 x 50.00 and one line with the rest of `total`."""
    rest = f"{float(total) - 100:.2f}"
    params: dict[str, Any] = {
        "amount": rub(total),
        "capture": capture,
        "confirmation": {"type": "redirect", "return_url": RETURN_URL},
        "description": "Заказ №17",
        "metadata": {"order_id": 17},
        "receipt": {
            "customer": {"email": "buyer@example.com"},
            "items": [
                {
                    "description": "Футболка, M",
                    "quantity": "2",
                    "amount": rub("50.00"),
                    "vat_code": 1,
                    "payment_subject": "commodity",
                    "payment_mode": "full_payment",
                },
                {"description": "Доставка", "quantity": "1", "amount": rub(rest), "vat_code": 1},
            ],
        },
    }
    params.update(extra)
    return params


def refund_receipt(value: str) -> dict[str, Any]:
    return {
        "customer": {"email": "buyer@example.com"},
        "items": [
            {"description": "Футболка, M", "quantity": "1", "amount": rub(value), "vat_code": 1}
        ],
    }


@pytest.fixture
async def emu() -> AsyncIterator[YooKassaEmulator]:
    async with YooKassaEmulator() as emulator:
        shop_id, secret_key = emulator.create_shop()
        Configuration.configure(shop_id, secret_key, api_url=emulator.api_url)
        yield emulator


async def create(params: Any, key: str | None = None) -> Any:
    return await asyncio.to_thread(Payment.create, params, key)


async def find(payment_id: str) -> Any:
    return await asyncio.to_thread(Payment.find_one, payment_id)


# -- creating a payment ----------------------------------------------------------------------


async def test_create_returns_pending_payment_with_checkout_link(emu: YooKassaEmulator) -> None:
    payment = await create(order_params())

    assert payment.status == "pending"
    assert payment.paid is False
    assert payment.amount.value == 150
    assert payment.description == "Заказ №17"
    assert payment.metadata == {"order_id": "17", "cms_name": "yookassa_sdk_python"}
    assert payment.confirmation.confirmation_url == emu.checkout_url(payment.id)
    assert payment.recipient.account_id in emu.shops
    assert payment.test is True
    assert payment.refundable is False
    assert emu.payments[payment.id].receipt is not None


async def test_create_accepts_the_sdk_request_builder(emu: YooKassaEmulator) -> None:
    item = ReceiptItem()
    item.description = "Кружка"
    item.quantity = 3
    item.amount = rub("99.90")
    item.vat_code = 4
    receipt = Receipt()
    receipt.customer = {"phone": "79001234567"}
    receipt.items = [item]
    request = (
        PaymentRequestBuilder()
        .set_amount(rub("299.70"))
        .set_confirmation({"type": "redirect", "return_url": RETURN_URL})
        .set_capture(False)
        .set_receipt(receipt)
        .build()
    )

    payment = await create(request)

    assert (payment.status, str(payment.amount.value)) == ("pending", "299.70")


async def test_same_key_and_body_return_the_same_payment(emu: YooKassaEmulator) -> None:
    first = await create(order_params(), "order-17-try-1")
    second = await create(order_params(), "order-17-try-1")

    assert second.id == first.id
    assert len(emu.payments) == 1


async def test_same_key_with_another_body_is_refused(emu: YooKassaEmulator) -> None:
    await create(order_params(), "order-17")

    with pytest.raises(BadRequestError) as refused:
        await create(order_params("200.00"), "order-17")

    assert refused.value.error.code == "invalid_request"
    assert refused.value.error.parameter == "Idempotence-Key"
    assert "duplicated" in refused.value.error.description
    assert len(emu.payments) == 1


async def raw_post(
    emu: YooKassaEmulator, path: str, body: Any, key: str | None = None
) -> tuple[int, dict[str, Any]]:
    """POST past the SDK's own checks, to see what the emulator itself refuses."""
    shop = next(iter(emu.shops.values()))
    token = base64.b64encode(f"{shop.shop_id}:{shop.secret_key}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    if key is not None:
        headers["Idempotence-Key"] = key
    async with (
        aiohttp.ClientSession() as session,
        session.post(emu.api_url + path, json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_a_post_without_idempotence_key_is_refused(emu: YooKassaEmulator) -> None:
    status, body = await raw_post(emu, "/payments", order_params())

    assert status == 400
    assert (body["type"], body["code"]) == ("error", "invalid_request")
    assert body["parameter"] == "Idempotence-Key"
    assert emu.payments == {}


async def test_receipt_lines_not_adding_up_are_refused(emu: YooKassaEmulator) -> None:
    params = order_params()
    params["receipt"]["items"][1]["amount"] = rub("49.99")

    with pytest.raises(BadRequestError) as refused:
        await create(params)

    assert refused.value.error.code == "invalid_request"
    assert refused.value.error.parameter == "receipt.items"
    assert emu.payments == {}


async def test_every_sdk_post_carries_an_idempotence_key(emu: YooKassaEmulator) -> None:
    payment = await create(order_params(capture=False))
    emu.pay(payment.id)
    await asyncio.to_thread(Payment.capture, payment.id)
    await find(payment.id)

    posts = [request for request in emu.requests if request.method == "POST"]
    assert [request.path for request in posts] == [
        "/v3/payments",
        f"/v3/payments/{payment.id}/capture",
    ]
    assert all(request.idempotence_key for request in posts)
    assert emu.requests[-1].idempotence_key is None


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        (lambda p: p["receipt"]["items"][1]["amount"].update(value="49.99"), "receipt.items"),
        (lambda p: p["receipt"].update(customer={}), "receipt.customer"),
        (lambda p: p["receipt"]["items"][0].update(vat_code=13), "receipt.items[0].vat_code"),
        (lambda p: p["receipt"]["items"][0].pop("description"), "receipt.items[0].description"),
        (lambda p: p["receipt"]["items"][0].update(quantity="0"), "receipt.items[0].quantity"),
        (
            lambda p: p["receipt"]["items"][0].update(payment_mode="gift"),
            "receipt.items[0].payment_mode",
        ),
        (lambda p: p["receipt"].update(items=[]), "receipt.items"),
        (lambda p: p.pop("receipt"), "receipt"),
        (lambda p: p.update(description="x" * 129), "description"),
        (lambda p: p["amount"].update(value="150.001"), "amount.value"),
        (lambda p: p["amount"].update(currency="USD"), "amount.currency"),
        (lambda p: p["confirmation"].pop("return_url"), "confirmation.return_url"),
        (lambda p: p.update(metadata={"k": {"nested": 1}}), "metadata"),
    ],
)
async def test_a_bad_payment_request_is_refused_naming_the_parameter(
    emu: YooKassaEmulator, change: Any, parameter: str
) -> None:
    params = order_params()
    change(params)

    status, body = await raw_post(emu, "/payments", params, key="order-17")

    assert status == 400
    assert (body["code"], body["parameter"]) == ("invalid_request", parameter)
    assert emu.payments == {}


async def test_receipt_is_optional_for_a_shop_without_receipts() -> None:
    async with YooKassaEmulator(require_receipt=False) as emulator:
        Configuration.configure(*emulator.create_shop(), api_url=emulator.api_url)
        params = order_params()
        del params["receipt"]

        payment = await create(params)

    assert payment.status == "pending"


async def test_wrong_credentials_are_refused(emu: YooKassaEmulator) -> None:
    Configuration.configure(next(iter(emu.shops)), "test_wrong", api_url=emu.api_url)

    with pytest.raises(UnauthorizedError) as refused:
        await create(order_params())

    assert refused.value.error.code == "invalid_credentials"


async def test_a_shop_cannot_see_another_shops_payment(emu: YooKassaEmulator) -> None:
    payment = await create(order_params())
    Configuration.configure(*emu.create_shop(), api_url=emu.api_url)

    with pytest.raises(NotFoundError):
        await find(payment.id)


async def test_an_unknown_payment_is_not_found(emu: YooKassaEmulator) -> None:
    with pytest.raises(NotFoundError) as refused:
        await find("2419a771-000f-5000-9000-1edaf29243f2")

    assert refused.value.error.code == "not_found"


# -- the shopper pays, the merchant captures or cancels ---------------------------------------


async def test_paying_a_captured_payment_makes_it_succeeded(emu: YooKassaEmulator) -> None:
    payment = await create(order_params())
    emu.pay(payment.id)

    found = await find(payment.id)

    assert (found.status, found.paid, found.refundable) == ("succeeded", True, True)
    assert found.payment_method.type == "bank_card"
    assert found.payment_method.card.last4 == "4444"
    assert found.income_amount.value < found.amount.value
    assert found.captured_at is not None
    assert found.receipt_registration == "succeeded"


async def test_a_two_stage_payment_waits_then_captures(emu: YooKassaEmulator) -> None:
    payment = await create(order_params(capture=False))
    emu.pay(payment.id)

    held = await find(payment.id)
    captured = await asyncio.to_thread(Payment.capture, payment.id, None, "capture-17")

    assert (held.status, held.paid, held.refundable) == ("waiting_for_capture", True, False)
    assert held.expires_at is not None
    assert captured.status == "succeeded"
    assert captured.expires_at is None


async def test_capture_of_an_unpaid_payment_is_refused(emu: YooKassaEmulator) -> None:
    payment = await create(order_params(capture=False))

    with pytest.raises(BadRequestError):
        await asyncio.to_thread(Payment.capture, payment.id)

    assert emu.payments[payment.id].status == "pending"


async def test_merchant_cancels_a_held_payment(emu: YooKassaEmulator) -> None:
    payment = await create(order_params(capture=False))
    emu.pay(payment.id)

    canceled = await asyncio.to_thread(Payment.cancel, payment.id)

    assert canceled.status == "canceled"
    assert canceled.paid is False
    assert canceled.cancellation_details.party == "merchant"
    assert canceled.cancellation_details.reason == "canceled_by_merchant"


async def test_a_pending_payment_cannot_be_canceled_by_the_merchant(
    emu: YooKassaEmulator,
) -> None:
    payment = await create(order_params())

    with pytest.raises(BadRequestError):
        await asyncio.to_thread(Payment.cancel, payment.id)


async def test_bank_decline_and_expiry_cancel_with_their_reason(emu: YooKassaEmulator) -> None:
    declined = await create(order_params())
    forgotten = await create(order_params())
    emu.cancel(declined.id, "insufficient_funds")
    emu.expire(forgotten.id)

    first, second = await find(declined.id), await find(forgotten.id)

    assert first.status == second.status == "canceled"
    assert (first.cancellation_details.party, first.cancellation_details.reason) == (
        "payment_network",
        "insufficient_funds",
    )
    assert (second.cancellation_details.party, second.cancellation_details.reason) == (
        "yoo_money",
        "expired_on_confirmation",
    )


async def test_list_filters_by_status(emu: YooKassaEmulator) -> None:
    paid = await create(order_params())
    await create(order_params())
    emu.pay(paid.id)

    listed = await asyncio.to_thread(Payment.list, {"status": "succeeded"})

    assert [item.id for item in listed.items] == [paid.id]


# -- refunds ------------------------------------------------------------------------------------


async def test_refunds_add_up_to_the_payment_and_no_further(emu: YooKassaEmulator) -> None:
    payment = await create(order_params())
    emu.pay(payment.id)

    refund = await asyncio.to_thread(
        Refund.create,
        {"payment_id": payment.id, "amount": rub("100.00"), "receipt": refund_receipt("100.00")},
    )
    with pytest.raises(BadRequestError) as too_much:
        await asyncio.to_thread(
            Refund.create,
            {"payment_id": payment.id, "amount": rub("50.01"), "receipt": refund_receipt("50.01")},
        )
    found = await asyncio.to_thread(Refund.find_one, refund.id)
    after = await find(payment.id)

    assert (found.status, found.payment_id, found.amount.value) == ("succeeded", payment.id, 100)
    assert too_much.value.error.parameter == "amount.value"
    assert after.refunded_amount.value == 100
    assert after.refundable is True


async def test_a_refund_of_a_payment_with_receipt_needs_a_receipt(emu: YooKassaEmulator) -> None:
    payment = await create(order_params())
    emu.pay(payment.id)

    with pytest.raises(BadRequestError) as refused:
        await asyncio.to_thread(Refund.create, {"payment_id": payment.id, "amount": rub("10.00")})

    assert refused.value.error.parameter == "receipt"
    assert emu.refunds == {}


async def test_an_unpaid_payment_cannot_be_refunded(emu: YooKassaEmulator) -> None:
    payment = await create(order_params())

    with pytest.raises(BadRequestError):
        await asyncio.to_thread(
            Refund.create,
            {"payment_id": payment.id, "amount": rub("10.00"), "receipt": refund_receipt("10.00")},
        )


# -- the answer is lost: a retry with the same key finds the payment made ------------------


async def test_a_dropped_answer_then_a_retry_gives_one_payment(emu: YooKassaEmulator) -> None:
    emu.fail_next_create(mode="timeout")

    # The SDK reads `.response` of the ConnectionError, which is None: an AttributeError.
    with pytest.raises(AttributeError):
        await create(order_params(), "order-17")
    made = list(emu.payments)
    retried = await create(order_params(), "order-17")

    assert made == [retried.id]
    assert list(emu.payments) == made


async def test_a_500_after_creating_then_a_retry_gives_one_payment(emu: YooKassaEmulator) -> None:
    emu.fail_next_create(mode="500")

    with pytest.raises(InternalServerError):
        await create(order_params(), "order-17")
    made = list(emu.payments)
    retried = await create(order_params(), "order-17")

    assert made == [retried.id]
    assert list(emu.payments) == made


async def test_the_sdk_does_not_retry_a_202_over_plain_http(emu: YooKassaEmulator) -> None:
    # Its Retry(status_forcelist=[202]) adapter is mounted for https:// only.
    emu.fail_next_create(mode="202")

    with pytest.raises(ResponseProcessingError):
        await create(order_params(), "order-17")

    assert len(emu.requests) == 1
    assert len(emu.payments) == 1


# -- notifications ----------------------------------------------------------------------------


class Receiver:
    """A shop's webhook endpoint that keeps what arrives and answers `status`."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.remotes: list[str | None] = []
        self.status = 200
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        self.remotes.append(request.remote)
        self.arrived.set()
        return web.Response(status=self.status)


@pytest.fixture
async def receiver(emu: YooKassaEmulator) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/webhooks/yookassa", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    emu.set_notification_url(f"http://127.0.0.1:{port}/webhooks/yookassa")
    yield receiver
    await runner.cleanup()


async def test_notification_of_success_parses_with_the_sdk(
    emu: YooKassaEmulator, receiver: Receiver
) -> None:
    payment = await create(order_params())
    emu.pay(payment.id)

    status = await emu.notify(payment.id)

    parsed = WebhookNotificationFactory().create(receiver.bodies[0])
    assert status == 200
    assert isinstance(parsed, WebhookNotification)
    assert parsed.event == "payment.succeeded"
    assert (parsed.object.id, parsed.object.status) == (payment.id, "succeeded")
    assert parsed.object.metadata["order_id"] == "17"


async def test_refund_notification_parses_with_the_sdk(
    emu: YooKassaEmulator, receiver: Receiver
) -> None:
    payment = await create(order_params())
    emu.pay(payment.id)
    refund = await asyncio.to_thread(
        Refund.create,
        {"payment_id": payment.id, "amount": rub("150.00"), "receipt": order_params()["receipt"]},
    )

    await emu.notify(refund.id)

    parsed = WebhookNotificationFactory().create(receiver.bodies[0])
    assert isinstance(parsed, RefundWebhookNotification)
    assert (parsed.event, parsed.object.payment_id) == ("refund.succeeded", payment.id)


async def test_auto_notify_sends_each_status_change(
    emu: YooKassaEmulator, receiver: Receiver
) -> None:
    emu.auto_notify = True
    payment = await create(order_params(capture=False))
    emu.pay(payment.id)
    await asyncio.to_thread(Payment.capture, payment.id)

    await emu.wait_notifications()

    events = sorted(body["event"] for body in receiver.bodies)
    assert events == ["payment.succeeded", "payment.waiting_for_capture"]
    assert all(delivery.status == 200 for delivery in emu.notifications)


async def test_replayed_and_out_of_order_notifications_carry_the_old_object(
    emu: YooKassaEmulator, receiver: Receiver
) -> None:
    payment = await create(order_params(capture=False))
    emu.pay(payment.id)
    held = emu.payment(payment.id)
    await asyncio.to_thread(Payment.capture, payment.id)
    stale_cancel = copy.deepcopy(held) | {"status": "canceled", "paid": False}

    await emu.notify(payment.id)
    await emu.notify(payment.id, obj=held)
    await emu.notify(payment.id, "payment.canceled", obj=stale_cancel)

    assert [(b["event"], b["object"]["status"]) for b in receiver.bodies] == [
        ("payment.succeeded", "succeeded"),
        ("payment.waiting_for_capture", "waiting_for_capture"),
        ("payment.canceled", "canceled"),
    ]
    assert (await find(payment.id)).status == "succeeded"


async def test_forged_notifications_reach_the_receiver_as_sent(
    emu: YooKassaEmulator, receiver: Receiver
) -> None:
    payment = await create(order_params())
    receiver.status = 400
    lie = {
        "type": "notification",
        "event": "payment.succeeded",
        "object": emu.payment(payment.id) | {"status": "succeeded", "paid": True},
    }

    status = await emu.notify_raw(lie)
    await emu.notify_raw(
        {
            "type": "notification",
            "event": "payment.succeeded",
            "object": {"id": "00000000-000f-5000-8000-000000000000"},
        }
    )

    assert status == 400
    assert receiver.bodies[0]["object"]["status"] == "succeeded"
    assert emu.payments[payment.id].status == "pending"
    assert [delivery.status for delivery in emu.notifications] == [400, 400]


async def test_notifications_come_from_loopback_which_the_sdk_does_not_trust(
    emu: YooKassaEmulator, receiver: Receiver
) -> None:
    payment = await create(order_params())
    emu.pay(payment.id)

    await emu.notify(payment.id)

    assert receiver.remotes == ["127.0.0.1"]
    assert SecurityHelper().is_ip_trusted("127.0.0.1") is False
    assert SecurityHelper().is_ip_trusted("185.71.76.10") is True


# -- the checkout page --------------------------------------------------------------------------


async def test_the_checkout_page_pays_and_sends_the_shopper_back(emu: YooKassaEmulator) -> None:
    payment = await create(order_params())
    url = payment.confirmation.confirmation_url

    async with aiohttp.ClientSession() as session:
        async with session.get(url) as page:
            html = await page.text()
        async with session.post(url + "/pay", allow_redirects=False) as paid:
            location = paid.headers["Location"]

    assert "150.00" in html and "Заказ №17" in html
    assert (paid.status, location) == (303, RETURN_URL)
    assert emu.payments[payment.id].status == "succeeded"
