"""Calendar notices: imported State Council holiday notices, one calendar version each.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = "'taxonomy', 'district', 'routing'"


def upgrade() -> None:
    # A notice import is a reference import like the others: one version row each.
    op.drop_constraint("ck_reference_versions_kind_known", "reference_versions", type_="check")
    op.create_check_constraint(
        op.f("ck_reference_versions_kind_known"),
        "reference_versions",
        f"kind IN ({_KINDS}, 'calendar')",
    )
    op.create_table(
        "calendar_years",
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("holidays", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("version", "year", name="pk_calendar_years"),
        sa.ForeignKeyConstraint(
            ["version"],
            ["reference_versions.id"],
            name="fk_calendar_years_version_reference_versions",
        ),
        sa.CheckConstraint("year BETWEEN 1950 AND 2199", name="ck_calendar_years_year_plausible"),
    )


def downgrade() -> None:
    op.drop_table("calendar_years")
    op.execute("DELETE FROM reference_versions WHERE kind = 'calendar'")
    op.drop_constraint("ck_reference_versions_kind_known", "reference_versions", type_="check")
    op.create_check_constraint(
        op.f("ck_reference_versions_kind_known"), "reference_versions", f"kind IN ({_KINDS})"
    )
