"""Case projection columns for the whole governance process.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)

COLUMNS: list[sa.Column[object]] = [
    sa.Column("street", sa.Text(), server_default="", nullable=False),
    sa.Column("community", sa.Text(), server_default="", nullable=False),
    sa.Column("lon", sa.Double(), nullable=True),
    sa.Column("lat", sa.Double(), nullable=True),
    sa.Column("light", sa.Text(), server_default="green", nullable=False),
    sa.Column("stage_warn_at", TS, nullable=True),
    sa.Column("condition", sa.Text(), server_default="", nullable=False),
    sa.Column("disposal_due_at", TS, nullable=True),
    sa.Column("disposal_late", sa.Boolean(), server_default="false", nullable=False),
    sa.Column("dispatch_count", sa.Integer(), server_default="0", nullable=False),
    sa.Column("return_count", sa.Integer(), server_default="0", nullable=False),
    sa.Column("extension_count", sa.Integer(), server_default="0", nullable=False),
    sa.Column("pending_request", sa.Text(), server_default="", nullable=False),
    sa.Column("verification", sa.Text(), server_default="", nullable=False),
    sa.Column("self_handled", sa.Boolean(), server_default="false", nullable=False),
    sa.Column("backlog", sa.Boolean(), server_default="false", nullable=False),
    sa.Column("urge_count", sa.Integer(), server_default="0", nullable=False),
    sa.Column("supervision_level", sa.Text(), server_default="", nullable=False),
    sa.Column("supervision_pending", sa.Boolean(), server_default="false", nullable=False),
    sa.Column("reply_due_at", TS, nullable=True),
    sa.Column("merged_into", sa.Text(), server_default="", nullable=False),
    sa.Column("duplicate_count", sa.Integer(), server_default="0", nullable=False),
    sa.Column("closing_type", sa.Text(), server_default="", nullable=False),
]


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("cases", column)
    op.create_index("ix_cases_street_status", "cases", ["street", "status"])
    op.create_index("ix_cases_community_status", "cases", ["community", "status"])
    op.create_index(
        "ix_cases_open_category_point",
        "cases",
        ["category", "lon", "lat"],
        postgresql_where=sa.text("status = 'open'"),
    )
    # Rows written before this migration get their values at the next rebuild
    # (`gridcase rebuild-projections --apply`), which folds the event log.


def downgrade() -> None:
    op.drop_index("ix_cases_open_category_point", "cases")
    op.drop_index("ix_cases_community_status", "cases")
    op.drop_index("ix_cases_street_status", "cases")
    for column in reversed(COLUMNS):
        op.drop_column("cases", column.name)
