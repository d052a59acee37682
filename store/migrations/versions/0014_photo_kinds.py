"""What each photo shows (domain.photo_kinds): 近景 near, 远景 far, 处置前 before, 处置后 after;
NULL for a photo uploaded without a kind (and for every photo before this migration).

Revision ID: 0014
Revises: 0013
Create Date: 2027-02-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("photos", sa.Column("kind", sa.Text(), nullable=True))
    op.create_check_constraint(
        "ck_photos_kind_known", "photos", "kind IN ('near', 'far', 'before', 'after')"
    )


def downgrade() -> None:
    op.drop_constraint("ck_photos_kind_known", "photos", type_="check")
    op.drop_column("photos", "kind")
