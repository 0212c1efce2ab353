"""Recurring directives: the period a directive has open, each period's deadline, and a report's period.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("directives") as batch_op:
        batch_op.add_column(sa.Column("cycle", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("reports") as batch_op:
        batch_op.add_column(sa.Column("cycle", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "directive_cycles",
        sa.Column("directive_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directives.id"],
            name=op.f("fk_directive_cycles_directive_id_directives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("directive_id", "number", name=op.f("pk_directive_cycles")),
    )


def downgrade() -> None:
    op.drop_table("directive_cycles")
    with op.batch_alter_table("reports") as batch_op:
        batch_op.drop_column("cycle")
    with op.batch_alter_table("directives") as batch_op:
        batch_op.drop_column("cycle")
