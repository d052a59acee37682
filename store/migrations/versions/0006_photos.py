"""Photos: uploaded images by sha256, and an index from a photo to the events naming it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("hash", name="pk_photos"),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], name="fk_photos_uploaded_by_users"),
        sa.CheckConstraint("hash ~ '^[0-9a-f]{64}$'", name="ck_photos_hash_is_sha256"),
        sa.CheckConstraint("size > 0", name="ck_photos_size_positive"),
        sa.CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png', 'image/webp')",
            name="ck_photos_content_type_known",
        ),
    )
    # "Which cases show this photo?" decides who may fetch it; without this index the
    # answer would scan the whole event log. Only events that carry photos are indexed.
    op.create_index(
        "ix_events_photos",
        "events",
        [sa.text("(data->'photos') jsonb_path_ops")],
        postgresql_using="gin",
        postgresql_where=sa.text("data ? 'photos'"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_photos", table_name="events")
    op.drop_table("photos")
