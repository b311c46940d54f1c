"""Which notified payments and refunds may be re-read from the provider, and when.

Every notification costs an API lookup (its body is never trusted), so a flood of forged or
replayed ones could hold back genuine ones. We create every payment and refund ourselves:

- an id in the ledger is looked up at once (one lookup per id at a time; a replay waits for
  the lookup in flight), unless its row is final already: the ledger only moves forward, so
  that lookup could change nothing;
- an id not in it is forged, another shop's, or one whose create answer was lost (its ledger
  row is still unbound: `find_payment` and `sync_refund` bind it by the metadata the lookup
  returns). It is looked up only while a recent unbound row exists, one at a time and a few
  a minute, and never waits: over the cap it is refused.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop.billing.gateway import PaymentGateway
from shop.billing.refunds import sync_refund
from shop.billing.settlement import sync_payment
from shop.models import Payment, PaymentProvider, PaymentStatus, Refund, RefundStatus
from shop.models.types import utcnow

UNBOUND_WINDOW = timedelta(days=2)
"""How long a row whose create answer was lost may still get its first notification
(YooKassa retries a notification for a day)."""
UNKNOWN_PER_MINUTE = 10
FINAL = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED, PaymentStatus.FAILED}
    | {RefundStatus.SUCCEEDED, RefundStatus.CANCELED, RefundStatus.FAILED}
)


class Verdict(StrEnum):
    KNOWN = "known"
    """In the ledger and still open: look it up now."""
    SETTLED = "settled"
    """In the ledger and final: a lookup could change nothing, skip it."""
    MAYBE_OURS = "maybe_ours"
    """Not in the ledger, but an unbound row of ours may be it: one lookup within the cap."""
    NOT_OURS = "not_ours"
    """Not in the ledger and nothing of ours unbound (or not a payment or refund): skip it."""
    CAPPED = "capped"
    """Maybe ours, but an unknown id is being looked up or the minute's cap is spent: skipped
    now (a retry later may pass; a lost payment is bound anyway when the shopper taps Pay)."""

    @property
    def allowed(self) -> bool:
        """Whether the caller may look the object up (inside `LookupGate.admit`)."""
        return self in (Verdict.KNOWN, Verdict.MAYBE_OURS)


async def classify(
    session: AsyncSession,
    provider: PaymentProvider,
    kind: str,
    object_id: str,
    *,
    now: datetime | None = None,
) -> Verdict:
    """KNOWN, SETTLED, MAYBE_OURS or NOT_OURS for a notified ``kind`` and provider id.

    ``kind`` is the notification's object kind: "payment" or "refund" (others are NOT_OURS).
    One query, on the ledger's unique (provider, provider id) keys and its status index.
    """
    since = (now or utcnow()) - UNBOUND_WINDOW
    if kind == "payment":
        status: Select[Any] = select(Payment.status).where(
            Payment.provider == provider, Payment.provider_payment_id == object_id
        )
        unbound = exists().where(
            Payment.provider == provider,
            Payment.status == PaymentStatus.CREATING,
            Payment.provider_payment_id.is_(None),
            Payment.created_at >= since,
        )
    elif kind == "refund":
        status = select(Refund.status).where(
            Refund.provider == provider, Refund.provider_refund_id == object_id
        )
        unbound = exists().where(
            Refund.provider == provider,
            Refund.status == RefundStatus.CREATING,
            Refund.provider_refund_id.is_(None),
            Refund.created_at >= since,
        )
    else:
        return Verdict.NOT_OURS
    known, may_be_ours = (await session.execute(select(status.scalar_subquery(), unbound))).one()
    if known is not None:
        return Verdict.SETTLED if known in FINAL else Verdict.KNOWN
    return Verdict.MAYBE_OURS if may_be_ours else Verdict.NOT_OURS


class LookupGate:
    """Admits notification lookups so that forged or replayed ids cannot delay genuine ones:
    known ids always (one lookup per id at a time), unknown ones one at a time and at most
    ``unknown_per_minute``, never queued.

    One per process and provider, shared by every notification handler of that process.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        provider: PaymentProvider = PaymentProvider.YOOKASSA,
        *,
        unknown_per_minute: int = UNKNOWN_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.provider = provider
        self.unknown_per_minute = unknown_per_minute
        self.clock = clock
        self._unknown_busy = False
        self._unknown_started: deque[float] = deque()
        self._in_flight: dict[tuple[str, str], asyncio.Lock] = {}
        self._users: Counter[tuple[str, str]] = Counter()

    @asynccontextmanager
    async def admit(self, kind: str, object_id: str) -> AsyncIterator[Verdict]:
        """Yield the verdict; look the object up inside the block only if ``verdict.allowed``.

        No database connection is held while the block runs; the slot the lookup holds is
        released when the block ends.
        """
        async with self.sessions() as session:
            verdict = await classify(session, self.provider, kind, object_id)
        if verdict is Verdict.KNOWN:
            async with self._one_lookup_of(kind, object_id):
                yield verdict
        elif verdict is Verdict.MAYBE_OURS and self._take_unknown_slot():
            try:
                yield verdict
            finally:
                self._unknown_busy = False
        else:
            yield Verdict.CAPPED if verdict is Verdict.MAYBE_OURS else verdict

    @asynccontextmanager
    async def _one_lookup_of(self, kind: str, object_id: str) -> AsyncIterator[None]:
        """A replayed id waits for its lookup in flight, then looks up again (it may be news)."""
        key = (kind, object_id)
        lock = self._in_flight.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # nobody holds or waits for it
                del self._users[key], self._in_flight[key]

    def _take_unknown_slot(self) -> bool:
        now = self.clock()
        while self._unknown_started and now - self._unknown_started[0] >= 60:
            self._unknown_started.popleft()
        if self._unknown_busy or len(self._unknown_started) >= self.unknown_per_minute:
            return False
        self._unknown_busy = True
        self._unknown_started.append(now)
        return True


async def sync_notified(
    gate: LookupGate, gateway: PaymentGateway, kind: str, object_id: str, source: str = "webhook"
) -> Verdict:
    """Re-read a notified payment or refund and record what the API says, if the gate admits
    it; the verdict says whether it did. GatewayError passes through, as from `sync_payment`.
    """
    async with gate.admit(kind, object_id) as verdict:
        if verdict.allowed and kind == "payment":
            await sync_payment(gate.sessions, gateway, object_id, source)
        elif verdict.allowed:
            await sync_refund(gate.sessions, gateway, object_id, source)
    return verdict
