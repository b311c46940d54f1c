"""Apply Alembic migrations from inside the running event loop (used at start-up and in tests).

The migrations are the `migrations` package, installed beside `bot` by the wheel, so the same
code finds them in a checkout and in site-packages.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent

# Several workers starting together each migrate: on PostgreSQL they take turns on this
# transaction-level advisory lock, and the ones that come later find the schema up to date.
MIGRATION_LOCK_KEY = 0x73686F70_6D696772  # "shopmigr"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a no-op when it is already there."""

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)
