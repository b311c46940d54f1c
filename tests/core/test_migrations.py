"""The migrated schema is the models' schema: no drift between Alembic and shop.models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, delete, insert, select, table

from shop.models import Base, OrderEvent, OutboxMessage
from shop.models.types import JSONType, UTCDateTime, utcnow
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


async def _downgrade(engine, revision: str) -> None:
    from alembic import command

    from bot.migrate import alembic_config

    def run(connection):
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def test_order_event_kinds_are_backfilled_from_the_old_statuses_and_notes(engine, sessions):
    from alembic.script import ScriptDirectory

    from bot.migrate import alembic_config, upgrade_database
    from tests.core.helpers import checkout, fill_cart, new_customer, small_shop

    (variant,) = await small_shop(sessions, [5])
    customer = await new_customer(sessions, 1)
    await fill_cart(sessions, customer, {variant: 1})
    placed = await checkout(sessions, customer)
    script = ScriptDirectory.from_config(alembic_config())
    await _downgrade(engine, script.get_revision("93ea8c4f7d84").down_revision)
    old = [
        (None, "new", None),
        ("new", "awaiting_payment", None),
        ("awaiting_payment", "cancelled", "reservation_expired"),
        ("cancelled", "paid", "late payment"),
        ("paid", "assembling", None),
        ("assembling", "refunded", "order_cancelled"),
    ]
    events = table(
        "order_events",
        column("order_id"),
        column("created_at", UTCDateTime),
        column("actor"),
        column("from_status"),
        column("to_status"),
        column("note"),
    )
    messages = table(
        "outbox",
        column("customer_id"),
        column("recipient"),
        column("kind"),
        column("payload", JSONType),
        column("status"),
        column("attempts"),
        column("next_attempt_at", UTCDateTime),
        column("created_at", UTCDateTime),
    )
    now = utcnow()
    async with engine.begin() as connection:
        await connection.execute(delete(events))
        await connection.execute(
            insert(events),
            [
                {"order_id": placed.id, "created_at": now, "actor": "system"}
                | {"from_status": before, "to_status": after, "note": note}
                for before, after, note in old
            ],
        )
        await connection.execute(
            insert(messages).values(
                customer_id=customer,
                recipient="customer",
                kind="order_status",
                payload={"order_id": placed.id, "status": "paid", "note": "late payment"},
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

    await upgrade_database(engine)

    async with sessions() as session:
        kinds = (await session.scalars(select(OrderEvent.kind).order_by(OrderEvent.id))).all()
        notes = (await session.scalars(select(OrderEvent.note).order_by(OrderEvent.id))).all()
        payload = await session.scalar(
            select(OutboxMessage.payload).where(OutboxMessage.kind == "order_status")
        )
    assert kinds == [
        "placed",
        "awaiting_payment",
        "expired",
        "late_paid",
        "status_changed",
        "refunded",
    ]
    assert notes == [note for _, _, note in old]  # the notes stay as people wrote them
    assert payload["kind"] == "late_paid"


async def test_photo_platform_ids_move_to_the_media_cache(engine, sessions):
    from alembic.script import ScriptDirectory

    from bot.migrate import alembic_config, upgrade_database
    from shop.models import Variant
    from shop.models.catalog import MediaCache
    from tests.core.helpers import small_shop

    (variant,) = await small_shop(sessions, [5])
    async with sessions() as session:
        product_id = await session.scalar(select(Variant.product_id).where(Variant.id == variant))
    script = ScriptDirectory.from_config(alembic_config())
    await _downgrade(engine, script.get_revision("9fefcd106c70").down_revision)
    photos = table(
        "product_photos",
        column("product_id"),
        column("position"),
        column("content_type"),
        column("data"),
        column("telegram_file_id"),
        column("vk_attachment"),
    )
    common = {"product_id": product_id, "content_type": "image/png", "data": b"png"}
    async with engine.begin() as connection:
        await connection.execute(
            insert(photos),
            [
                common | {"position": 0, "telegram_file_id": "AgAD1", "vk_attachment": "photo-1_2"},
                common | {"position": 1, "telegram_file_id": None, "vk_attachment": "photo-1_3"},
                common | {"position": 2, "telegram_file_id": None, "vk_attachment": None},
            ],
        )

    await upgrade_database(engine)

    async with sessions() as session:
        cached = (await session.execute(select(MediaCache.channel, MediaCache.remote_id))).all()
    assert sorted(tuple(row) for row in cached) == [
        ("telegram", "AgAD1"),
        ("vk", "photo-1_2"),
        ("vk", "photo-1_3"),
    ]
