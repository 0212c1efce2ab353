"""What each delivery cost (free, quota, paid, and how many paid messages), so a broadcast's costs can be summed;
the new outbox status "held" (outside the channel's window) needs no schema change.

Revision ID: 0007_costs
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_costs"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("cost", sa.String(16), nullable=True))
        batch.add_column(sa.Column("paid", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("paid")
        batch.drop_column("cost")
