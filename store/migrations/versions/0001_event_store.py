"""Event store, case projection and notifications.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("schema_version", sa.SmallInteger(), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("actor_id", sa.Text(), nullable=False),
        sa.Column("actor_role", sa.Text(), nullable=False),
        sa.Column("actor_unit", sa.Text(), server_default="", nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("recorded_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_events"),
        sa.UniqueConstraint("case_id", "version", name="uq_events_case_id_version"),
        sa.CheckConstraint("version >= 1", name="ck_events_version_positive"),
    )
    # The log is append-only: refuse UPDATE, DELETE and TRUNCATE at the database.
    op.execute(
        """
        CREATE FUNCTION gridcase_events_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the events table is append-only (% refused)', TG_OP;
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION gridcase_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION gridcase_events_append_only()"
    )

    op.create_table(
        "cases",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("grid", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), server_default="", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("reporter_id", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reported_at", TS, nullable=False),
        sa.Column("stage_entered_at", TS, nullable=False),
        sa.Column("stage_due_at", TS, nullable=True),
        sa.Column("stage_overdue", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("overdue_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rework_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="pk_cases"),
    )
    op.create_index(
        "ix_cases_open_due",
        "cases",
        ["stage_due_at"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_cases_department_status", "cases", ["department", "status"])
    op.create_index("ix_cases_grid_status", "cases", ["grid", "status"])
    op.create_index("ix_cases_category_status", "cases", ["category", "status"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("event_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint(
            "case_id", "event_version", "kind", name="uq_notifications_case_id_event_version_kind"
        ),
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("cases")
    op.execute("DROP TABLE events")
    op.execute("DROP FUNCTION gridcase_events_append_only()")
