"""The migrated schema is the models' schema: no drift between Alembic and shop.models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shop.models import Base
from shop.search import is_search_object


def _diff(connection):
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_object": lambda obj, name, *_: not is_search_object(name),
        },
    )
    return compare_metadata(context, Base.metadata)


async def test_upgrade_head_equals_the_models(engine):
    async with engine.connect() as connection:
        diff = await connection.run_sync(_diff)
    assert diff == []


async def test_upgrade_is_idempotent(engine):
    from bot.migrate import upgrade_database

    await upgrade_database(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
