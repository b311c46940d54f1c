"""order events carry a kind

Revision ID: 93ea8c4f7d84
Revises: 9fefcd106c70
Create Date: 2026-12-02 10:37:29.404932

The kind is backfilled from what the history said until now: the status moved and the note
(which code used to read, and which stays as it was, for people). Order status messages
still waiting in the outbox get the kind too, so their text is picked by it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "93ea8c4f7d84"
down_revision: str | None = "9fefcd106c70"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = """CASE
    WHEN from_status IS NULL THEN 'placed'
    WHEN note = 'reservation_expired' THEN 'expired'
    WHEN note = 'late payment' THEN 'late_paid'
    WHEN note = 'cash_on_delivery' THEN 'cash_on_delivery'
    WHEN note = 'cancelled_by_customer' THEN 'cancelled_by_customer'
    WHEN from_status = 'new' AND to_status = 'awaiting_payment' THEN 'awaiting_payment'
    WHEN to_status = 'paid' THEN 'paid'
    WHEN to_status = 'refunded' THEN 'refunded'
    ELSE 'status_changed'
END"""
NOTE_KINDS = {
    "reservation_expired": "expired",
    "late payment": "late_paid",
    "cash_on_delivery": "cash_on_delivery",
}
STATUS_KINDS = {"paid": "paid", "refunded": "refunded"}


def upgrade() -> None:
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=32), nullable=True))
    op.execute(f"UPDATE order_events SET kind = {KIND}")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=32), nullable=False)
    _kind_in_waiting_messages()


def _kind_in_waiting_messages() -> None:
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("status", sa.String),
        sa.column("payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    )
    bind = op.get_bind()
    waiting = bind.execute(
        sa.select(outbox.c.id, outbox.c.payload).where(
            outbox.c.kind == "order_status", outbox.c.status != "sent"
        )
    ).all()
    for message_id, payload in waiting:
        if not isinstance(payload, dict) or "kind" in payload:
            continue
        kind = NOTE_KINDS.get(payload.get("note") or "") or STATUS_KINDS.get(
            payload.get("status") or "", "status_changed"
        )
        bind.execute(
            outbox.update()
            .where(outbox.c.id == message_id)
            .values(payload={**payload, "kind": kind})
        )


def downgrade() -> None:
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_column("kind")
