"""Keep the platform updates that can never be handled (malformed) for inspection, instead of retrying them forever;
and switch reminders off per target, so a board member's switch reaches only the cells in their scope.

Revision ID: 0008
Revises: 0007_costs
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007_costs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "set_aside_updates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("update_key", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_set_aside_updates")),
    )
    op.create_index("ix_set_aside_updates_at", "set_aside_updates", ["at"])
    with op.batch_alter_table("directive_targets") as batch:
        batch.add_column(sa.Column("reminders_off", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("directive_targets") as batch:
        batch.drop_column("reminders_off")
    op.drop_index("ix_set_aside_updates_at", table_name="set_aside_updates")
    op.drop_table("set_aside_updates")
