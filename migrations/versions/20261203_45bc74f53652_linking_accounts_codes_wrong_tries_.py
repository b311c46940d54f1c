"""linking accounts: one-time codes, wrong tries, the chosen notification channel

Revision ID: 45bc74f53652
Revises: 139460bfdb25
Create Date: 2026-12-03 22:02:29.098646
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "45bc74f53652"
down_revision: str | None = "139460bfdb25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "link_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_link_attempts_account_id_channel_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_attempts")),
    )
    op.create_index("ix_link_attempts_account_time", "link_attempts", ["account_id", "created_at"])
    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_link_codes_account_id_channel_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
    )
    op.create_index(op.f("ix_link_codes_account_id"), "link_codes", ["account_id"])
    op.create_index(op.f("ix_link_codes_code_hash"), "link_codes", ["code_hash"])
    # Plain ADD COLUMN: a batch copy of customers would trip the foreign keys to it.
    op.add_column("customers", sa.Column("notify_channel", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "notify_channel")
    op.drop_index(op.f("ix_link_codes_code_hash"), table_name="link_codes")
    op.drop_index(op.f("ix_link_codes_account_id"), table_name="link_codes")
    op.drop_table("link_codes")
    op.drop_index("ix_link_attempts_account_time", table_name="link_attempts")
    op.drop_table("link_attempts")
