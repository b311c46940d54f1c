"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import MetaData, Table, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "shop_read_only"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the engine; on SQLite turn on WAL, a busy timeout and write-ahead locking.

    SQLite transactions start with BEGIN IMMEDIATE so that concurrent writers queue on the
    busy timeout instead of failing when a read lock cannot be upgraded.
    """
    if not is_sqlite(url):
        # A fixed pool, no overflow: waiting for a connection costs less than opening one
        # (bench/README.md); several workers x 20 stay under PostgreSQL's 100 connections.
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_recycle", 1800)
        return create_async_engine(url, **kwargs)

    # Few fixed connections: SQLite has one writer, so more only poll its busy handler
    # (bench/README.md).
    kwargs.setdefault("pool_size", 4)
    kwargs.setdefault("max_overflow", 0)
    kwargs.setdefault("pool_timeout", 60)
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


# INSERT constructs that take ON CONFLICT clauses (PostgreSQL's and SQLite's spell them alike).
CONFLICT_INSERTS: dict[str, Callable[[Table], Any]] = {
    "postgresql": postgresql_insert,
    "sqlite": sqlite_insert,
}


def table_of(model: type[Base]) -> Table:
    """A mapped class's Table, typed as one (``__table__`` is typed as any FromClause)."""
    return cast(Table, model.__table__)


def create_session_factory(
    engine: AsyncEngine, *, read_only: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``. ``read_only`` ones never write, so on SQLite they begin with a
    plain BEGIN and read beside another process's writer instead of queueing for its lock."""
    if read_only:
        engine = engine.execution_options(**{READ_ONLY: True})
    return async_sessionmaker(engine, expire_on_commit=False)
