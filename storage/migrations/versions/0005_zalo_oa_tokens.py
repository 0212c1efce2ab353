"""zalo_oa_tokens: the Zalo OA's rotating token pair, kept durably so a restart never loses the refresh token.

Revision ID: 0005
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "zalo_oa_tokens",
        sa.Column("oa_id", sa.String(64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("seed_hashes", sa.Text(), nullable=False),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("oa_id", name=op.f("pk_zalo_oa_tokens")),
    )


def downgrade() -> None:
    op.drop_table("zalo_oa_tokens")
