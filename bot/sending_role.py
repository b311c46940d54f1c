"""The sending role: with several processes on PostgreSQL and no Redis to share a send
budget, exactly one of them sends, so that together they never exceed a messenger's limits.

The role is a PostgreSQL advisory lock held on a connection the holder keeps for as long as
it runs; the others try for it every second. When the holder dies its connection closes,
PostgreSQL lets the lock go and the next one to ask takes over. A new holder keeps quiet for
a second first (the last holder's final second of sends is then out of every window), makes
the messages the last holder had claimed due again, and sends from then on.

A process without the role still takes updates and works out the replies, but hands their
messages to the outbox (bot/budget.py, `HandOver`), which the holder delivers in order.
Only what cannot wait there goes out directly within a small allowance: the answer to a
button press, an invoice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from bot import budget
from shop import outbox

log = logging.getLogger(__name__)

LOCK_KEY = 0x53484F50_53454E44  # "SHOPSEND": one role per database
"""The advisory lock's key (a bigint): the same in every process of one shop."""


class SendingRole:
    """Try for the role every ``retry`` seconds; hold it while the connection lives."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker,  # type: ignore[type-arg]
        *,
        retry: float = 1.0,
        quiet: float = 1.0,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.retry = retry
        self.quiet = quiet
        self.holding = False
        self._connection: AsyncConnection | None = None

    async def try_once(self) -> bool:
        """Try for the role (or check the one held); whether this process holds it."""
        try:
            await self._step()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database went away: try again later
            await self._lose(error)
        return self.holding

    async def take_at_start(self, within: float = 3.0) -> bool:
        """Try for the role for a few seconds before serving: a holder killed a moment ago
        (a restart) lets go of it as soon as PostgreSQL sees its connection closed."""
        deadline = asyncio.get_running_loop().time() + within
        while not await self.try_once():
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.2)
        return True

    async def run_forever(self) -> None:
        if not self.holding:
            log.info("Sending role: another process sends; standing by")
        try:
            while True:
                await asyncio.sleep(self.retry)
                await self.try_once()
        finally:
            await self.release()

    async def _step(self) -> None:
        """Try for the role, or check that the held one is still ours."""
        if self._connection is None:
            connection = await self.engine.connect()
            self._connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        if self.holding:
            await self._connection.execute(text("SELECT 1"))
            return
        query = text("SELECT pg_try_advisory_lock(:key)")
        if not (await self._connection.execute(query, {"key": LOCK_KEY})).scalar():
            return
        self.holding = True
        await asyncio.sleep(self.quiet)
        async with self.sessions() as session, session.begin():
            released = await outbox.release_leases(session)
        budget.send_here(True)
        log.warning(
            "Sending role: this process sends now (%d claimed message(s) of the last "
            "holder due again)",
            released,
        )

    async def _lose(self, error: BaseException) -> None:
        if self.holding:
            log.warning("Sending role lost (%r): standing by", error)
        self.holding = False
        budget.send_here(False)
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()  # never back to the pool with the lock on it
            with contextlib.suppress(Exception):
                await connection.close()

    async def release(self) -> None:
        """Let the role go at once (a clean stop): the next process need not wait. The
        budget is left as it is: nothing sends after the stop."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            if self.holding:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        self.holding = False
        with contextlib.suppress(Exception):
            await connection.invalidate()
        with contextlib.suppress(Exception):
            await connection.close()
