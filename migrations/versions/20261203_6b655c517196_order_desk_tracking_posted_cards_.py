"""order desk: tracking, posted cards, marketing consent when and where

Revision ID: 6b655c517196
Revises: 2e57edc42ce3
Create Date: 2026-12-03 22:00:59.235674
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6b655c517196"
down_revision: str | None = "2e57edc42ce3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "posted_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_posted_cards_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posted_cards")),
    )
    op.create_index("ix_posted_cards_order", "posted_cards", ["order_id"], unique=False)
    # add_column, not a batch copy: other tables reference customers and orders (SQLite).
    op.add_column(
        "customers", sa.Column("marketing_consent_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "customers", sa.Column("marketing_consent_channel", sa.String(length=16), nullable=True)
    )
    op.add_column("orders", sa.Column("tracking_number", sa.String(length=64), nullable=True))
    op.add_column("orders", sa.Column("carrier", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "carrier")
    op.drop_column("orders", "tracking_number")
    op.drop_column("customers", "marketing_consent_channel")
    op.drop_column("customers", "marketing_consent_at")
    op.drop_index("ix_posted_cards_order", table_name="posted_cards")
    op.drop_table("posted_cards")
