"""Reference data: departments, taxonomy, org units, grid workers, routing, versions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
EMPTY_TEXT_ARRAY = sa.text("'{}'::text[]")


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("extension", sa.Boolean(), server_default="false", nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_departments"),
    )
    op.create_table(
        "major_classes",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("extension", sa.Boolean(), server_default="false", nullable=False),
        sa.PrimaryKeyConstraint("kind", "code", name="pk_major_classes"),
        sa.CheckConstraint("kind IN ('component', 'event')", name="ck_major_classes_kind_known"),
    )
    op.create_table(
        "categories",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("major", sa.Text(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("urgency", sa.Text(), nullable=False),
        sa.Column("default_department", sa.Text(), nullable=False),
        sa.Column("supervising_department", sa.Text(), nullable=True),
        sa.Column("self_handling", sa.Boolean(), nullable=False),
        sa.Column("extension", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("conditions", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_categories"),
        sa.ForeignKeyConstraint(
            ["kind", "major"],
            ["major_classes.kind", "major_classes.code"],
            name="fk_categories_kind_major_classes",
        ),
        sa.ForeignKeyConstraint(
            ["default_department"],
            ["departments.code"],
            name="fk_categories_default_department_departments",
        ),
        sa.ForeignKeyConstraint(
            ["supervising_department"],
            ["departments.code"],
            name="fk_categories_supervising_department_departments",
        ),
        sa.CheckConstraint("urgency IN ('urgent', 'ordinary')", name="ck_categories_urgency_known"),
    )

    op.create_table(
        "org_units",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("parent", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), server_default="", nullable=False),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("geometry", postgresql.JSONB(), nullable=True),
        sa.Column("min_lon", sa.Double(), nullable=True),
        sa.Column("min_lat", sa.Double(), nullable=True),
        sa.Column("max_lon", sa.Double(), nullable=True),
        sa.Column("max_lat", sa.Double(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "departments",
            postgresql.ARRAY(sa.Text()),
            server_default=EMPTY_TEXT_ARRAY,
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("code", name="pk_org_units"),
        sa.ForeignKeyConstraint(
            ["parent"], ["org_units.code"], name="fk_org_units_parent_org_units"
        ),
        sa.CheckConstraint(
            "level IN ('district', 'street', 'community', 'grid')", name="ck_org_units_level_known"
        ),
    )
    op.create_index("ix_org_units_parent", "org_units", ["parent"])
    # Coarse filter for locating a point: grids whose box contains it, then the exact test.
    op.create_index(
        "ix_org_units_level_bbox",
        "org_units",
        ["level", "min_lon", "max_lon", "min_lat", "max_lat"],
    )
    op.create_table(
        "responsibility_grids",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("grid_codes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_responsibility_grids"),
    )
    op.create_table(
        "grid_workers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("responsibility_grid", sa.Text(), nullable=False),
        sa.Column("grid_codes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_grid_workers"),
        sa.ForeignKeyConstraint(
            ["responsibility_grid"],
            ["responsibility_grids.id"],
            name="fk_grid_workers_responsibility_grid_responsibility_grids",
        ),
        sa.UniqueConstraint("responsibility_grid", name="uq_grid_workers_responsibility_grid"),
    )

    op.create_table(
        "routing_rules",
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_routing_rules"),
        sa.UniqueConstraint("category", "area", name="uq_routing_rules_category_area"),
    )

    op.create_table(
        "reference_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("checksum", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.Column("imported_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("counts", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reference_versions"),
        sa.CheckConstraint(
            "kind IN ('taxonomy', 'district', 'routing')", name="ck_reference_versions_kind_known"
        ),
    )
    op.create_index("ix_reference_versions_kind_id", "reference_versions", ["kind", "id"])


def downgrade() -> None:
    op.drop_table("reference_versions")
    op.drop_table("routing_rules")
    op.drop_table("grid_workers")
    op.drop_table("responsibility_grids")
    op.drop_table("org_units")
    op.drop_table("categories")
    op.drop_table("major_classes")
    op.drop_table("departments")
