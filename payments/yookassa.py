"""YooKassa through the official SDK, as a `shop.billing.PaymentGateway`.

The SDK is blocking, so every call runs in a worker thread of the gateway's own: creating
payments and refunds (a shopper or staff waiting) in one pool, re-reading them (notifications,
polling: anyone on the internet can cause those) in another, small one, so a flood of lookups
never holds back a checkout, nor the loop's default pool. Its credentials normally live in
the global ``Configuration``; each gateway instead snapshots its own into one ``ApiClient``
(under a lock, restoring the globals), so two gateways or other SDK users never mix shops.
The SDK sends no request timeout of its own; ours is added to every request.
"""

from __future__ import annotations

import asyncio
import functools
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import requests
from yookassa import Configuration, Payment, Refund
from yookassa.client import ApiClient
from yookassa.domain.common import ConfirmationType, SecurityHelper
from yookassa.domain.exceptions import (
    ApiError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
)
from yookassa.domain.notification import WebhookNotificationFactory
from yookassa.domain.request import PaymentRequestBuilder, RefundRequestBuilder

from payments.receipts import rubles, sdk_receipt
from shop.billing import (
    GatewayError,
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundRequest,
)
from shop.billing.receipts import CURRENCY
from shop.models import PaymentProvider, PaymentStatus, RefundStatus

DEFAULT_API_URL = "https://api.yookassa.ru/v3"
PAYMENT_STATUSES = {
    "pending": PaymentStatus.PENDING,
    "waiting_for_capture": PaymentStatus.WAITING_FOR_CAPTURE,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELED,
}
"""YooKassa's payment statuses in the core's terms (any other is unknown to the core)."""
REFUND_STATUSES = {
    "pending": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "canceled": RefundStatus.CANCELED,
}
REFUSALS = (BadRequestError, ForbiddenError, UnauthorizedError)
"""Answers that a retry with the same request would only get again."""
CREATE_THREADS = 8
LOOKUP_THREADS = 3
"""Notification lookups are admitted by shop.billing.LookupGate (at most one unknown id at
a time), so genuine ones keep at least two threads."""

T = TypeVar("T")
_CONFIGURATION = threading.Lock()
_GLOBALS = (
    "account_id",
    "secret_key",
    "auth_token",
    "api_url",
    "timeout",
    "max_attempts",
    "verify",
)
_OBJECT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


class _ShopClient(ApiClient):
    """An ApiClient bound to one shop, whatever the SDK's global Configuration says."""

    def __init__(self, shop_id: str, secret_key: str, api_url: str, timeout: float) -> None:
        with _CONFIGURATION:
            saved = {name: getattr(Configuration, name) for name in _GLOBALS}
            try:
                Configuration.configure(shop_id, secret_key, api_url=api_url)
                super().__init__()
            finally:
                for name, value in saved.items():
                    setattr(Configuration, name, value)
        self.request_timeout = timeout

    def get_session(self) -> requests.Session:
        session = super().get_session()
        session.request = functools.partial(  # type: ignore[method-assign]
            session.request, timeout=self.request_timeout
        )
        return session


def _bound(resource: type[T], client: ApiClient) -> type[T]:
    """``Payment`` or ``Refund`` whose class methods talk through ``client``."""

    def use_client(self: Any) -> None:
        self.client = client

    return type(resource.__name__, (resource,), {"__init__": use_client})


@dataclass(frozen=True)
class Notification:
    """What a notification names: its event and the id of the payment or refund."""

    event: str
    object_id: str

    @property
    def kind(self) -> str:
        """``payment``, ``refund`` or another object kind (``payout``, ``deal``...)."""
        return self.event.partition(".")[0]


class YooKassaGateway:
    """YooKassa's API v3: payments captured at once with a redirect link, refunds, receipts.

    ``vat_code`` goes on every receipt line (1: "без НДС"); ``tax_system_code`` only when
    the shop has more than one tax system.
    """

    provider = PaymentProvider.YOOKASSA

    def __init__(
        self,
        shop_id: str,
        secret_key: str,
        api_url: str = DEFAULT_API_URL,
        *,
        vat_code: int = 1,
        tax_system_code: int | None = None,
        timeout: float = 30.0,
        create_threads: int = CREATE_THREADS,
        lookup_threads: int = LOOKUP_THREADS,
    ) -> None:
        self.vat_code = vat_code
        self.tax_system_code = tax_system_code
        client = _ShopClient(shop_id, secret_key, api_url.rstrip("/"), timeout)
        self._payments = _bound(Payment, client)
        self._refunds = _bound(Refund, client)
        self._creating = ThreadPoolExecutor(create_threads, thread_name_prefix="yookassa-create")
        self._looking_up = ThreadPoolExecutor(lookup_threads, thread_name_prefix="yookassa-lookup")

    def close(self) -> None:
        """Let the worker threads go once their calls end (at shutdown; idle ones cost nothing)."""
        self._creating.shutdown(wait=False, cancel_futures=True)
        self._looking_up.shutdown(wait=False, cancel_futures=True)

    async def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        params = (
            PaymentRequestBuilder()
            .set_amount({"value": rubles(request.amount), "currency": CURRENCY})
            .set_capture(True)
            .set_confirmation({"type": ConfirmationType.REDIRECT, "return_url": request.return_url})
            .set_description(request.description)
            .set_metadata(
                {"order_id": str(request.order_id), "attempt_id": str(request.attempt_id)}
            )
            .set_receipt(sdk_receipt(request.receipt, self.vat_code, self.tax_system_code))
            .build()
        )
        answer = await self._call(
            self._creating, self._payments.create, params, request.idempotence_key
        )
        return _payment(answer)

    async def get_payment(self, payment_id: str) -> ProviderPayment | None:
        try:
            return _payment(await self._call(self._looking_up, self._payments.find_one, payment_id))
        except _NotFound:
            return None

    async def create_refund(self, request: RefundRequest) -> ProviderRefund:
        builder = (
            RefundRequestBuilder()
            .set_payment_id(request.provider_payment_id)
            .set_amount({"value": rubles(request.amount), "currency": CURRENCY})
            .set_description(request.description)
            .set_metadata({"refund_id": str(request.refund_id)})
        )
        if request.receipt is not None:
            builder.set_receipt(sdk_receipt(request.receipt, self.vat_code, self.tax_system_code))
        answer = await self._call(
            self._creating, self._refunds.create, builder.build(), request.idempotence_key
        )
        return _refund(answer)

    async def get_refund(self, refund_id: str) -> ProviderRefund | None:
        try:
            return _refund(await self._call(self._looking_up, self._refunds.find_one, refund_id))
        except _NotFound:
            return None

    async def _call(self, pool: ThreadPoolExecutor, method: Callable[..., T], *args: Any) -> T:
        """Run a blocking SDK call in one of ``pool``'s threads; failures become GatewayError."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, functools.partial(method, *args))
        except NotFoundError as error:
            raise _NotFound(_describe(error), retryable=False) from error
        except REFUSALS as error:
            raise GatewayError(_describe(error), retryable=False) from error
        except (ValueError, TypeError) as error:  # the SDK refused to build the request
            raise GatewayError(f"invalid request: {error}", retryable=False) from error
        except (ApiError, requests.RequestException) as error:  # 5xx, 429, 202, network
            raise GatewayError(_describe(error), retryable=True) from error
        except AttributeError as error:
            # The SDK reads `.response` of a dropped connection, which is None: the outcome
            # is unknown, and the same idempotence key may be sent again.
            raise GatewayError(f"no answer: {error}", retryable=True) from error


class _NotFound(GatewayError):
    pass


def parse_notification(body: Any) -> Notification:
    """Read a notification body with the SDK; ValueError if it is not one.

    Only the event and the object id are taken: the object's status is re-read from the API.
    """
    try:
        notification = WebhookNotificationFactory().create(body)
        object_id = notification.object.id
    except Exception as error:  # the SDK raises ValueError, TypeError or KeyError alike
        raise ValueError(f"not a YooKassa notification: {error}") from error
    if not isinstance(notification.event, str):
        raise ValueError("a notification without an event")
    if not isinstance(object_id, str) or not _OBJECT_ID.fullmatch(object_id):
        raise ValueError(f"not an object id: {object_id!r}")  # it goes into an API path
    return Notification(notification.event, object_id)


def is_trusted_ip(address: str) -> bool:
    """Whether a notification comes from YooKassa's published networks."""
    try:
        return bool(SecurityHelper().is_ip_trusted(address))
    except Exception:  # not an IP address at all
        return False


def _payment(answer: Any) -> ProviderPayment:
    metadata = answer.metadata or {}
    confirmation = getattr(answer, "confirmation", None)
    return ProviderPayment(
        id=answer.id,
        status=PAYMENT_STATUSES.get(answer.status),
        amount=_kopecks(answer.amount.value),
        confirmation_url=getattr(confirmation, "confirmation_url", None),
        order_id=_int_or_none(metadata.get("order_id")),
        attempt_id=_int_or_none(metadata.get("attempt_id")),
    )


def _refund(answer: Any) -> ProviderRefund:
    metadata = getattr(answer, "metadata", None) or {}
    return ProviderRefund(
        id=answer.id,
        payment_id=answer.payment_id,
        status=REFUND_STATUSES.get(answer.status),
        amount=_kopecks(answer.amount.value),
        refund_id=_int_or_none(metadata.get("refund_id")),
    )


def _kopecks(value: Any) -> int:
    return int((Decimal(str(value)) * 100).quantize(Decimal(1)))


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, str | int) and str(value).isdigit() else None


def _describe(error: Exception) -> str:
    details = getattr(error, "content", None)
    return f"{type(error).__name__}: {details or error}"
