"""Users, their org units, API tokens and Open311 API clients.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
ROLES = (
    "grid_worker",
    "acceptor",
    "shift_leader",
    "dispatcher",
    "handler",
    "supervisor",
    "leader",
    "admin",
)


def upgrade() -> None:
    role_list = ", ".join(f"'{r}'" for r in ROLES)
    op.create_table(
        "users",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.CheckConstraint(f"role IN ({role_list})", name="ck_users_role_known"),
    )
    op.create_table(
        "user_units",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("user_id", "unit", name="pk_user_units"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_units_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_tokens_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_clients"),
        sa.UniqueConstraint("name", name="uq_api_clients_name"),
        sa.UniqueConstraint("key_hash", name="uq_api_clients_key_hash"),
    )
    # A grid worker's task list asks "which cases was I sent to verify?"; without this it
    # would scan the whole event log.
    op.create_index(
        "ix_events_verification_assignee",
        "events",
        [sa.text("(data->>'assignee')"), "case_id"],
        postgresql_where=sa.text("type = 'VerificationRequested'"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_verification_assignee", table_name="events")
    op.drop_table("api_clients")
    op.drop_index("ix_api_tokens_user_id", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("user_units")
    op.drop_table("users")
