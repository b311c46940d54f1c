"""orders email for the receipt

Revision ID: edf73bcaf9f0
Revises: a03312f2c31c
Create Date: 2026-12-02 10:36:07.956989
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "edf73bcaf9f0"
down_revision: str | None = "a03312f2c31c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("email")
