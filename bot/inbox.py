"""The process side of the inbox: store events before they are acknowledged, then handle
each lane (one person, one payment) one event at a time, in order, at once and again later.

Front-ends call `InboxWorker.accept` (it commits, then they acknowledge) and register a
handler per source. A handler takes its entry inside the transaction that applies the
event's effects (`shop.inbox.take`); one that leaves it untaken (an update the shop ignores,
or effects that are idempotent by themselves) has it taken here afterwards. A sweeper picks
up whatever is left pending: after a crash, a database outage or another worker's failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from shop import inbox, outbox
from shop.inbox import Arrival, Entry
from shop.models.types import utcnow

log = logging.getLogger(__name__)

Handler = Callable[[Entry], Awaitable[None]]
"""Handles one entry; raises to have it tried again (parked after a few tries)."""
ParkedHook = Callable[[Entry], Awaitable[None]]

SWEEP_SECONDS = 1.0
LEFT_BEHIND = timedelta(seconds=3)
"""A pending event older than this is taken up by the sweeper, whoever received it."""
TRANSIENT_RETRY_SECONDS = 0.2


def is_transient(error: BaseException) -> bool:
    """A fault of the database or the network that passes: the event waits, uncounted."""
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return isinstance(error, OSError | TimeoutError | ConnectionError)


class Lanes:
    """One asyncio lock per busy lane, dropped when nobody waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def busy(self, lane: str) -> bool:
        return lane in self._locks

    @contextlib.asynccontextmanager
    async def hold(self, lane: str):  # type: ignore[no-untyped-def]
        lock, users = self._locks.get(lane, (asyncio.Lock(), 0))
        self._locks[lane] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[lane]
            if users > 1:
                self._locks[lane] = (lock, users - 1)
            else:
                del self._locks[lane]


class InboxWorker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.handlers: dict[str, Handler] = {}
        self.on_parked: dict[str, ParkedHook] = {}
        self.lanes = Lanes()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.handled = 0
        self.failed = 0

    def register(self, source: str, handler: Handler, on_parked: ParkedHook | None = None) -> None:
        self.handlers[source] = handler
        if on_parked is not None:
            self.on_parked[source] = on_parked

    async def accept(
        self,
        arrivals: Sequence[Arrival],
        *,
        position: tuple[str, str] | None = None,
        wait: float = 0.0,
    ) -> int:
        """Commit the arrivals (and a long poll's new ``position``), then start handling the
        new ones, waiting up to ``wait`` seconds for that. Raises if the database cannot
        take them: then do not acknowledge."""
        try:
            entries = await self._store(arrivals, position)
        except Exception as error:
            if not is_transient(error):
                raise
            entries = await self._store(arrivals, position)  # a dropped connection: afresh
        started = [self._spawn(self._run_lane(entry.lane, entry)) for entry in entries]
        running = {task for task in started if task is not None}
        if wait and running:
            await asyncio.wait(running, timeout=wait)
        return len(entries)

    async def _store(
        self, arrivals: Sequence[Arrival], position: tuple[str, str] | None
    ) -> list[Entry]:
        async with self.sessions() as session, session.begin():
            entries = await inbox.store(session, arrivals)
            if position is not None:
                await inbox.save_position(session, *position)
        return entries

    def _spawn(self, job: Coroutine[object, object, None]) -> asyncio.Task[None] | None:
        if self._closed:
            job.close()
            return None
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_lane(self, lane: str, first: Entry | None) -> None:
        """Handle ``first`` (just stored here), or else the lane's pending events in order."""
        async with self.lanes.hold(lane):
            entry, retried = first, False
            while not self._closed:
                if entry is None:
                    try:
                        async with self.sessions() as session:
                            found = await inbox.next_in_lane(session, lane)
                    except Exception as error:  # the database is away: the sweeper comes back
                        log.warning("inbox lane %s waits: %r", lane, error)
                        return
                    if found is None or found[1] > utcnow():
                        return  # nothing left, or the oldest waits for its retry time
                    entry = found[0]
                with metrics.handling(entry):  # log lines name it; its time is measured
                    outcome = await self._handle(entry)
                if outcome == "transient" and not retried:
                    retried = True  # a connection the database dropped: once more, afresh
                    await asyncio.sleep(TRANSIENT_RETRY_SECONDS)
                    continue
                retried = False
                if outcome == "transient":
                    return  # the sweeper tries again once the database answers
                if outcome == "handled" and entry is first:
                    return  # the fast path: no look back; the sweeper covers the rest
                if outcome == "stop":
                    return
                entry = None  # not ours to handle yet, or more may wait: look at the lane

    async def _handle(self, entry: Entry) -> str:
        """``handled``, ``again`` (an earlier event came first: look again), ``transient``
        (the database or network failed: not counted) or ``stop`` (counted; due later)."""
        handler = self.handlers.get(entry.source)
        if handler is None:
            log.error("no handler for inbox source %s", entry.source)
            return "stop"
        try:
            await handler(entry)
            if not entry.taken:
                async with self.sessions() as session, session.begin():
                    if not await inbox.take(session, entry):
                        return "again"
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if entry.taken:  # its effects are committed; what failed was only the answer
                log.exception("answering inbox event %s failed after it was handled", entry.id)
                self.handled += 1
                metrics.handled(entry)
                return "handled"
            return await self._failed(entry, error)
        self.handled += 1
        metrics.handled(entry)
        return "handled"

    async def _failed(self, entry: Entry, error: Exception) -> str:
        self.failed += 1
        metrics.failed(entry)
        if is_transient(error):
            log.warning("inbox event %s waits: %r", entry.id, error)
            return "transient"
        log.exception(
            "inbox event %s failed (try %s)", entry.id, entry.attempts + 1, exc_info=error
        )
        try:
            async with self.sessions() as session, session.begin():
                parked = await inbox.record_failure(session, entry, repr(error))
                if parked:
                    outbox.enqueue(
                        session,
                        "staff_alert",
                        {"problem": "event_parked", "event": entry.id, "source": entry.source},
                        recipient=outbox.MODERATORS,
                    )
        except Exception:
            log.exception("could not record the failure of inbox event %s", entry.id)
            return "stop"
        if not parked:
            return "stop"  # tried again by the sweeper when due, the lane waits till then
        log.error("inbox event %s parked after %s tries: %r", entry.id, entry.attempts, error)
        hook = self.on_parked.get(entry.source)
        if hook is not None:
            with contextlib.suppress(Exception):
                await hook(entry)
        return "again"

    async def sweep(self, older_than: timedelta = LEFT_BEHIND) -> int:
        """Start handling lanes with events left pending; return how many were started."""
        async with self.sessions() as session:
            lanes = await inbox.waiting_lanes(session, older_than=older_than)
        started = 0
        for lane in lanes:
            if not self.lanes.busy(lane):
                self._spawn(self._run_lane(lane, None))
                started += 1
        return started

    async def run_sweeper(self, every: float = SWEEP_SECONDS) -> None:
        """Sweep now (events left by the last run) and then every ``every`` seconds."""
        first = True
        while True:
            try:
                await self.sweep(timedelta(0) if first else LEFT_BEHIND)
                first = False
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("inbox sweep failed: %r", error)
            await asyncio.sleep(every)

    async def idle(self) -> None:
        """Wait until every event being handled here is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, within: float = 5.0) -> None:
        """Stop taking new work; let what runs finish for a few seconds, then cancel it."""
        self._closed = True
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=within)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
