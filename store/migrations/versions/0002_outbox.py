"""Notifications become an outbox: delivery state per notice, and webhook subscriptions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
STATUSES = "status IN ('pending', 'delivered', 'failed', 'no_subscriber')"


def upgrade() -> None:
    # Server defaults keep the event store's insert path unchanged: a new notice is pending
    # and due at once. Notices written before this migration become pending too, so the
    # first drain delivers them (nothing written before the outbox existed is dropped).
    op.add_column(
        "notifications", sa.Column("status", sa.Text(), server_default="pending", nullable=False)
    )
    op.add_column(
        "notifications", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "notifications",
        sa.Column("next_attempt_at", TS, server_default=sa.func.now(), nullable=False),
    )
    op.add_column("notifications", sa.Column("last_attempt_at", TS, nullable=True))
    op.add_column("notifications", sa.Column("delivered_at", TS, nullable=True))
    op.add_column("notifications", sa.Column("last_error", sa.Text(), nullable=True))
    # Subscriptions that already acknowledged the notice: a retry goes only to the others.
    op.add_column(
        "notifications",
        sa.Column(
            "delivered_to",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    op.create_check_constraint("ck_notifications_status_known", "notifications", STATUSES)
    op.create_check_constraint(
        "ck_notifications_attempts_not_negative", "notifications", "attempts >= 0"
    )
    # The drain query: pending notices by due time. Partial, so delivered history (the
    # bulk of the table) does not weigh on it.
    op.create_index(
        "ix_notifications_pending_due",
        "notifications",
        ["next_attempt_at", "id"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    # Failed and undeliverable notices, for people to look at and retry.
    op.create_index(
        "ix_notifications_undelivered",
        "notifications",
        ["id"],
        postgresql_where=sa.text("status IN ('failed', 'no_subscriber')"),
    )

    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column(
            "audiences",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscriptions"),
        sa.UniqueConstraint("name", name="uq_webhook_subscriptions_name"),
    )


def downgrade() -> None:
    op.drop_table("webhook_subscriptions")
    op.drop_index("ix_notifications_undelivered", table_name="notifications")
    op.drop_index("ix_notifications_pending_due", table_name="notifications")
    op.drop_constraint("ck_notifications_attempts_not_negative", "notifications", type_="check")
    op.drop_constraint("ck_notifications_status_known", "notifications", type_="check")
    for column in (
        "delivered_to",
        "last_error",
        "delivered_at",
        "last_attempt_at",
        "next_attempt_at",
        "attempts",
        "status",
    ):
        op.drop_column("notifications", column)
