"""promo codes and order discounts

Revision ID: 5637aa8b41a3
Revises: 45bc74f53652
Create Date: 2026-12-03 22:02:30.597599
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5637aa8b41a3"
down_revision: str | None = "45bc74f53652"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "promo_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(percent IS NULL) <> (amount IS NULL)",
            name=op.f("ck_promo_codes_percent_or_amount"),
        ),
        sa.CheckConstraint(
            "amount IS NULL OR amount > 0", name=op.f("ck_promo_codes_amount_positive")
        ),
        sa.CheckConstraint(
            "percent IS NULL OR (percent >= 1 AND percent <= 99)",
            name=op.f("ck_promo_codes_percent_range"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_promo_codes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_promo_codes_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_promo_codes_code")),
    )
    op.create_index(
        "ix_promo_codes_customer_unused", "promo_codes", ["customer_id", "used_at"], unique=False
    )
    # Plain ADD COLUMN with a constant default: a batch copy of orders would trip the foreign
    # keys that point at it.
    op.add_column(
        "order_lines",
        sa.Column("discount", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column(
        "orders", sa.Column("discount", sa.BigInteger(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("orders", "discount")
    op.drop_column("order_lines", "discount")
    op.drop_index("ix_promo_codes_customer_unused", table_name="promo_codes")
    op.drop_table("promo_codes")
