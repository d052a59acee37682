"""For the console: case changes announced with NOTIFY (live updates), indexes for the
big screen's counts of today's reports and closures, and for the open cases of the map and
of a department's inbox.

Every write of a case's projection row (each append, in its transaction; a rebuild that
corrects a row) sends one notification on the channel ``gridcase_cases`` when the
transaction commits, carrying ids only: the case, its version, its grid, and its
department now and before the write (so a department that just lost a case hears of it
too). The API processes LISTEN and fan the ids out to the pages (``store/live.py``).

A bulk loader that writes rows nobody watches may turn it off for its session with
``SET gridcase.notify = 'off'``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cases_reported_at", "cases", ["reported_at"])
    op.create_index(
        "ix_cases_closed_at",
        "cases",
        ["closed_at"],
        postgresql_where=sa.text("closed_at IS NOT NULL"),
    )
    live = sa.text("status IN ('open', 'suspended')")
    op.create_index(
        "ix_cases_live_grid", "cases", ["grid", "stage_due_at", "status"], postgresql_where=live
    )
    op.create_index("ix_cases_live_due", "cases", ["stage_due_at"], postgresql_where=live)
    op.create_index(
        "ix_cases_live_department",
        "cases",
        ["department", "stage", "stage_due_at"],
        postgresql_where=live,
    )
    op.execute(
        """
        CREATE FUNCTION gridcase_case_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('gridcase.notify', true) = 'off' THEN
                RETURN NULL;
            END IF;
            PERFORM pg_notify('gridcase_cases', json_build_object(
                'case', NEW.case_id,
                'version', NEW.version,
                'grid', NEW.grid,
                'department', NEW.department,
                'was', CASE WHEN TG_OP = 'UPDATE' THEN OLD.department ELSE '' END
            )::text);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER cases_changed AFTER INSERT OR UPDATE ON cases
        FOR EACH ROW EXECUTE FUNCTION gridcase_case_changed()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER cases_changed ON cases")
    op.execute("DROP FUNCTION gridcase_case_changed()")
    op.drop_index("ix_cases_live_department", table_name="cases")
    op.drop_index("ix_cases_live_due", table_name="cases")
    op.drop_index("ix_cases_live_grid", table_name="cases")
    op.drop_index("ix_cases_closed_at", table_name="cases")
    op.drop_index("ix_cases_reported_at", table_name="cases")
