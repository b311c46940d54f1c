"""Database fixtures: every core test runs on SQLite and, when TEST_DATABASE_URL is set, on
PostgreSQL. Each backend gets a freshly migrated database per run (per xdist worker); tests
never see each other's data (SQLite: a copy of the migrated file per test; PostgreSQL: tables
truncated before each test).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.migrate import upgrade_database
from shop.db import create_engine, create_session_factory
from shop.demo import load_demo_catalog
from shop.models import Base

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PG_HINT = (
    "PostgreSQL cases need TEST_DATABASE_URL, e.g. "
    "TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test make test"
)


def run_apart(job: Callable[..., Awaitable[None]], *args: object) -> None:
    """Run a set-up coroutine on its own loop in its own thread, apart from the test's loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, job(*args)).result()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    run_apart(_migrate, f"sqlite+aiosqlite:///{path}")
    return path


async def _admin(sql: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test run, created and migrated here, dropped after."""
    if not PG_URL:
        pytest.skip(PG_HINT)
    name = f"shop_test_{uuid.uuid4().hex[:12]}"
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    run_apart(_admin, f'CREATE DATABASE "{name}"')
    try:
        run_apart(_migrate, url)
        yield url
    finally:
        run_apart(_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL: SQLite, then PostgreSQL (emptied again afterwards)."""
    if request.param == "sqlite":
        path = tmp_path / "shop.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    # Emptied before rather than after: a write an earlier test's bot made while stopping
    # (after its teardown) cannot leak into this test.
    run_apart(_truncate_all, url)
    yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def demo(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """The session factory of a database holding the demo shop."""
    async with sessions() as session, session.begin():
        await load_demo_catalog(session)
    return sessions


def pytest_report_header() -> str:
    return f"PostgreSQL: {PG_URL}" if PG_URL else f"PostgreSQL cases skipped. {PG_HINT}"
