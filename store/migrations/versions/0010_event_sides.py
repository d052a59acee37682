"""Supervision and disposal kept apart by the database: the side of each event type, and
row-level security on the log.

The rows of ``event_sides`` and the per-side INSERT policies (which name the configured
roles) are written by ``store.db.migrate`` after every upgrade (``store.access``), not here:
they follow the step declarations and the settings of each release. Until they exist, a
role that is neither the owner nor a superuser can insert no event at all.

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_sides",
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("type", name="pk_event_sides"),
    )
    op.execute("ALTER TABLE events ENABLE ROW LEVEL SECURITY")
    # Whoever has SELECT on the log reads all of it; inserting is per side.
    op.execute("CREATE POLICY events_readable ON events FOR SELECT USING (true)")


def downgrade() -> None:
    # The per-side policies read event_sides: drop every policy on the log first.
    op.execute(
        """
        DO $$
        DECLARE p record;
        BEGIN
            FOR p IN SELECT policyname FROM pg_policies
                     WHERE schemaname = current_schema() AND tablename = 'events' LOOP
                EXECUTE format('DROP POLICY %I ON events', p.policyname);
            END LOOP;
        END $$;
        """
    )
    op.execute("ALTER TABLE events DISABLE ROW LEVEL SECURITY")
    op.drop_table("event_sides")
