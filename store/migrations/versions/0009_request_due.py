"""When the center must answer a department's request (extension, return, suspension).

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Requests recorded before the due time existed have none (NULL), also after a rebuild.
    op.add_column(
        "cases", sa.Column("pending_request_due_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("cases", "pending_request_due_at")
