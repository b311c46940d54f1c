"""The YooKassa emulator object: start/stop, shops, and the controls a test drives it with."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal

import aiohttp
from aiohttp import web

from tests.emulators.yookassa import operations
from tests.emulators.yookassa.errors import invalid_request, not_found
from tests.emulators.yookassa.idempotency import IdempotenceKeys
from tests.emulators.yookassa.notifications import (
    REFUND_SUCCEEDED,
    Delivery,
    deliver,
    event_for_payment,
    notification,
)
from tests.emulators.yookassa.server import RecordedRequest, build_app
from tests.emulators.yookassa.state import PaymentRecord, RefundRecord, Shop
from tests.emulators.yookassa.validation import require_object

FailureMode = Literal["timeout", "500", "202"]


class YooKassaEmulator:
    """An in-process YooKassa API v3 for the real SDK; a test plays shopper, bank and clock.

    `require_receipt` (on by default) makes the shop one that sends 54-FZ receipts through
    YooKassa: a payment without a receipt, or a refund of such a payment without one, is refused.
    """

    def __init__(self, *, require_receipt: bool = True, auto_notify: bool = False) -> None:
        self.require_receipt = require_receipt
        self.auto_notify = auto_notify
        self.shops: dict[str, Shop] = {}
        self.payments: dict[str, PaymentRecord] = {}
        self.refunds: dict[str, RefundRecord] = {}
        self.requests: list[RecordedRequest] = []
        self.notifications: list[Delivery] = []
        self.notification_url: str | None = None
        self.idempotence = IdempotenceKeys()
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.base_url = ""
        self._create_failures: list[tuple[FailureMode, float]] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._pending: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner = web.AppRunner(build_app(self), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        public_host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        self.base_url = f"http://{public_host}:{bound_port}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.wait_notifications()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> YooKassaEmulator:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """What to give `Configuration.configure(..., api_url=...)` and YOOKASSA_API_URL."""
        return self.base_url + "/v3"

    def checkout_url(self, payment_id: str) -> str:
        return f"{self.base_url}/checkout/{payment_id}"

    def create_shop(
        self, shop_id: str | None = None, secret_key: str | None = None
    ) -> tuple[str, str]:
        """A shop with its credentials; pass both to get stable ones across restarts."""
        shop_id = shop_id or str(100000 + secrets.randbelow(900000))
        secret_key = secret_key or operations.new_secret_key()
        self.shops[shop_id] = Shop(shop_id, secret_key)
        return shop_id, secret_key

    # -- API operations, called by the routes in server.py ----------------------------------

    def api_create_payment(self, shop: Shop, body: Any) -> dict[str, Any]:
        record = operations.create_payment(
            shop,
            body,
            now=self.now(),
            checkout_url=self.checkout_url,
            require_receipt=self.require_receipt,
        )
        self.payments[record.id] = record
        return record.as_api()

    def api_capture(self, shop: Shop, payment_id: str, body: Any) -> dict[str, Any]:
        record = self.find_payment(shop, payment_id)
        operations.capture_payment(
            record, body, now=self.now(), require_receipt=self.require_receipt
        )
        self._changed(record.id)
        return record.as_api()

    def api_cancel(self, shop: Shop, payment_id: str) -> dict[str, Any]:
        record = self.find_payment(shop, payment_id)
        operations.cancel_payment(record)
        self._changed(record.id)
        return record.as_api()

    def api_create_refund(self, shop: Shop, body: Any) -> dict[str, Any]:
        body = require_object(body, "body")
        payment_id = body.get("payment_id")
        if not isinstance(payment_id, str) or not payment_id:
            raise invalid_request("payment_id is missing", "payment_id")
        payment = self.payments.get(payment_id)
        if payment is None or payment.shop is not shop:
            raise invalid_request(f"Payment {payment_id} doesn't exist", "payment_id")
        refund = operations.create_refund(
            payment, body, now=self.now(), require_receipt=self.require_receipt
        )
        self.refunds[refund.id] = refund
        self._changed(refund.id)
        return refund.as_api()

    def find_payment(self, shop: Shop, payment_id: str) -> PaymentRecord:
        record = self.payments.get(payment_id)
        if record is None or record.shop is not shop:
            raise not_found(f"Payment {payment_id} doesn't exist or access denied")
        return record

    def find_refund(self, shop: Shop, refund_id: str) -> RefundRecord:
        refund = self.refunds.get(refund_id)
        if refund is None or self.payments[refund.payment_id].shop is not shop:
            raise not_found(f"Refund {refund_id} doesn't exist or access denied")
        return refund

    def take_create_failure(self) -> tuple[FailureMode, float] | None:
        return self._create_failures.pop(0) if self._create_failures else None

    # -- controls for tests: the shopper, the bank and the network ---------------------------

    def payment(self, payment_id: str) -> dict[str, Any]:
        """The payment as GET /v3/payments/{id} would show it now (a snapshot to keep)."""
        return self._known(payment_id).as_api()

    def pay(self, payment_id: str, method_type: str | None = None) -> dict[str, Any]:
        """The shopper pays: succeeded when created with capture=true, else waiting_for_capture."""
        record = self._known(payment_id)
        if record.status != "pending":
            raise ValueError(f"payment {payment_id} is {record.status}, not pending")
        record.mark_paid(self.now(), method_type)
        self._changed(payment_id)
        return record.as_api()

    def cancel(self, payment_id: str, reason: str = "general_decline") -> dict[str, Any]:
        """YooKassa or the bank cancels (e.g. insufficient_funds); party follows the reason."""
        record = self._known(payment_id)
        if record.status not in ("pending", "waiting_for_capture"):
            raise ValueError(f"payment {payment_id} is already {record.status}")
        record.mark_canceled(reason)
        self._changed(payment_id)
        return record.as_api()

    def expire(self, payment_id: str) -> dict[str, Any]:
        """Time runs out: unpaid -> expired_on_confirmation, held -> expired_on_capture."""
        record = self._known(payment_id)
        if record.status == "pending":
            return self.cancel(payment_id, "expired_on_confirmation")
        if record.status == "waiting_for_capture":
            return self.cancel(payment_id, "expired_on_capture")
        raise ValueError(f"payment {payment_id} is already {record.status}")

    def fail_next_create(
        self, times: int = 1, mode: FailureMode = "timeout", hold: float = 0.0
    ) -> None:
        """The next `times` successful creates make the payment but the answer is lost.

        timeout: the connection drops without an answer (after `hold` seconds); 500: an
        internal_server_error body; 202: a "processing" answer. A retry with the same
        Idempotence-Key gets the payment that was made.
        """
        if mode not in ("timeout", "500", "202"):
            raise ValueError(f"unknown failure mode {mode!r}")
        self._create_failures.extend([(mode, hold)] * times)

    def set_notification_url(self, url: str | None) -> None:
        self.notification_url = url

    async def notify(
        self, object_id: str, event: str | None = None, obj: dict[str, Any] | None = None
    ) -> int:
        """Send a notification for a payment or refund; returns the receiver's HTTP status.

        The event follows the current status unless given; pass `obj` (an earlier snapshot
        from `payment()`) to replay an old notification or deliver one out of order.
        """
        return await self.notify_raw(self._notification(object_id, event, obj))

    async def notify_raw(self, body: Any, url: str | None = None) -> int:
        """Send any body (a dict, or str/bytes as is): forged, malformed or stale ones."""
        target = url or self.notification_url
        if target is None:
            raise RuntimeError("set_notification_url() first")
        if self._session is None:
            raise RuntimeError("the emulator is not started")
        delivery = Delivery(target, body)
        self.notifications.append(delivery)
        return await deliver(self._session, delivery)

    async def wait_notifications(self) -> None:
        """Wait until every automatic notification has been delivered (or failed)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def _changed(self, object_id: str) -> None:
        if not (self.auto_notify and self.notification_url and self._session):
            return
        # The body is taken now: a later change must not rewrite what this one announces.
        body = self._notification(object_id)
        task = asyncio.get_running_loop().create_task(self._auto_notify(body))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _auto_notify(self, body: dict[str, Any]) -> None:
        # A failed delivery stays recorded in self.notifications with its error.
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            await self.notify_raw(body)

    def _notification(
        self, object_id: str, event: str | None = None, obj: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        if object_id in self.refunds:
            return notification(event or REFUND_SUCCEEDED, obj or self.refunds[object_id].as_api())
        snapshot = obj or self._known(object_id).as_api()
        return notification(event or event_for_payment(snapshot["status"]), snapshot)

    def _known(self, payment_id: str) -> PaymentRecord:
        try:
            return self.payments[payment_id]
        except KeyError:
            raise KeyError(f"no payment {payment_id!r} in the emulator") from None
