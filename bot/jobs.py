"""Periodic jobs run inside the process: each loops until cancelled, surviving its own errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop.inbox import forget_old
from shop.reservations import expire_unpaid_orders
from shop.support import tickets

log = logging.getLogger(__name__)


async def every(seconds: float, job: Callable[[], Awaitable[object]], name: str) -> None:
    """Run ``job`` every ``seconds``; an error is logged and the next round still comes."""
    while True:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed; retrying in %ss", name, seconds)
        await asyncio.sleep(seconds)


def standard_jobs(sessions: async_sessionmaker[AsyncSession]) -> list[Awaitable[None]]:
    async def expire() -> None:
        expired = await expire_unpaid_orders(sessions)
        if expired:
            log.info("cancelled unpaid orders %s: reservation expired", expired)

    async def forget_updates() -> None:
        async with sessions() as session, session.begin():
            await forget_old(session)

    return [
        every(60, expire, "reservation expiry"),
        every(3600, forget_updates, "forget handled inbox events"),
    ]


SLA_CHECK_SECONDS = 30.0


def sla_job(sessions: async_sessionmaker[AsyncSession], minutes: int) -> Awaitable[None]:
    """Raise again in the moderator chat each ticket waiting longer than ``minutes``."""

    async def raise_overdue() -> None:
        async with sessions() as session, session.begin():
            raised = await tickets.raise_overdue(session, minutes)
        if raised:
            log.info("tickets %s wait longer than %s min", [t.id for t in raised], minutes)

    return every(SLA_CHECK_SECONDS, raise_overdue, "support SLA")
