"""media cache replaces photo platform ids

Telegram's file ids and VK's attachment strings move from columns of product_photos to
one front-end-owned table keyed by (channel, photo).

Revision ID: 9fefcd106c70
Revises: edf73bcaf9f0
Create Date: 2026-12-02 10:37:00.864910
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9fefcd106c70"
down_revision: str | None = "edf73bcaf9f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CACHED = (("telegram", "telegram_file_id"), ("vk", "vk_attachment"))
FOREIGN_KEY = "fk_media_cache_photo_id_product_photos"
# The foreign key comes last and goes first: on SQLite, batch mode rebuilds product_photos
# (drop and rename), and the cascade would empty media_cache on the way.


def upgrade() -> None:
    op.create_table(
        "media_cache",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("channel", "photo_id", name=op.f("pk_media_cache")),
    )
    for channel, column in CACHED:
        op.execute(
            f"INSERT INTO media_cache (channel, photo_id, remote_id) "
            f"SELECT '{channel}', id, {column} FROM product_photos WHERE {column} IS NOT NULL"
        )
    with op.batch_alter_table("product_photos", schema=None) as batch_op:
        batch_op.drop_column("vk_attachment")
        batch_op.drop_column("telegram_file_id")
    with op.batch_alter_table("media_cache", schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f(FOREIGN_KEY), "product_photos", ["photo_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("media_cache", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(FOREIGN_KEY), type_="foreignkey")
    with op.batch_alter_table("product_photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telegram_file_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("vk_attachment", sa.String(length=255), nullable=True))
    for channel, column in CACHED:
        op.execute(
            f"UPDATE product_photos SET {column} = (SELECT remote_id FROM media_cache "
            f"WHERE media_cache.photo_id = product_photos.id AND channel = '{channel}')"
        )
    op.drop_table("media_cache")
