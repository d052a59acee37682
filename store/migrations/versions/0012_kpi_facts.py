"""The evaluation facts of each case (综合评价), a projection KPIs aggregate in SQL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_TEXTS = postgresql.ARRAY(sa.Text())


def upgrade() -> None:
    # Cases appended before this migration get their row at their next append, or all at
    # once with `gridcase rebuild-projections --apply` (which folds the event log).
    op.create_table(
        "kpi_facts",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reported_at", _TS, nullable=False),
        sa.Column("reporter", sa.Text(), nullable=False),
        sa.Column("reporter_role", sa.Text(), nullable=False),
        sa.Column("reporter_unit", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("grid", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=True),
        sa.Column("file_due_at", _TS, nullable=True),
        sa.Column("due_to_file", sa.Boolean(), nullable=False),
        sa.Column("filed_on_time", sa.Boolean(), nullable=False),
        sa.Column("verifier", sa.Text(), nullable=False),
        sa.Column("verifier_unit", sa.Text(), nullable=False),
        sa.Column("verify_due_at", _TS, nullable=True),
        sa.Column("verified_on_time", sa.Boolean(), nullable=False),
        sa.Column("disposal_due_at", _TS, nullable=True),
        sa.Column("due_for_disposal", sa.Boolean(), nullable=False),
        sa.Column("departments", _TEXTS, nullable=False),
        sa.Column("final_department", sa.Text(), nullable=False),
        sa.Column("returned_from", _TEXTS, nullable=False),
        sa.Column("reworked_at", _TEXTS, nullable=False),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("disposed", sa.Boolean(), nullable=False),
        sa.Column("disposal_on_time", sa.Boolean(), nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("closed_on_time", sa.Boolean(), nullable=False),
        sa.Column("check_due_at", postgresql.ARRAY(_TS), nullable=False),
        sa.Column("check_on_time", postgresql.ARRAY(sa.Boolean()), nullable=False),
        sa.Column("checker", _TEXTS, nullable=False),
        sa.Column("checker_unit", _TEXTS, nullable=False),
        sa.Column("check_last_due", _TS, nullable=True),
        sa.Column("card_at", postgresql.ARRAY(_TS), nullable=False),
        sa.Column("card_level", _TEXTS, nullable=False),
        sa.Column("card_department", _TEXTS, nullable=False),
        sa.Column("card_last_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="pk_kpi_facts"),
    )
    op.create_index(
        "ix_kpi_facts_disposal",
        "kpi_facts",
        ["disposal_due_at"],
        postgresql_include=[
            "final_department",
            "departments",
            "returned_from",
            "reworked_at",
            "extensions",
            "disposed",
            "disposal_on_time",
            "closed_at",
            "closed_on_time",
        ],
        postgresql_where=sa.text("due_for_disposal"),
    )
    op.create_index(
        "ix_kpi_facts_redispatched",
        "kpi_facts",
        ["disposal_due_at"],
        postgresql_include=["departments", "final_department", "returned_from", "reworked_at"],
        postgresql_where=sa.text(
            "due_for_disposal AND (cardinality(departments) > 1 OR final_department = '')"
        ),
    )
    op.create_index("ix_kpi_facts_reported_at", "kpi_facts", ["reported_at"])
    op.create_index(
        "ix_kpi_facts_file_due_at",
        "kpi_facts",
        ["file_due_at"],
        postgresql_where=sa.text("due_to_file"),
    )
    op.create_index("ix_kpi_facts_verify_due_at", "kpi_facts", ["verify_due_at"])
    op.create_index("ix_kpi_facts_check_last_due", "kpi_facts", ["check_last_due"])
    op.create_index("ix_kpi_facts_card_last_at", "kpi_facts", ["card_last_at"])


def downgrade() -> None:
    op.drop_table("kpi_facts")
