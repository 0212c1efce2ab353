"""Levels: an upper directive handed to the board of a unit below, what it did with it and its report upward;
a merged unit's successor.

Revision ID: 0013
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("units") as batch_op:
        batch_op.add_column(sa.Column("successor_id", ID, nullable=True))
        batch_op.create_foreign_key(op.f("fk_units_successor_id_units"), "units", ["successor_id"], ["id"])
    op.create_table(
        "handoffs",
        sa.Column("directive_id", ID, nullable=False),
        sa.Column("unit_id", ID, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reissue_id", ID, nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directives.id"],
            name=op.f("fk_handoffs_directive_id_directives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_handoffs_unit_id_units")),
        sa.ForeignKeyConstraint(
            ["reissue_id"],
            ["directives.id"],
            name=op.f("fk_handoffs_reissue_id_directives"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("directive_id", "unit_id", name=op.f("pk_handoffs")),
    )


def downgrade() -> None:
    op.drop_table("handoffs")
    with op.batch_alter_table("units") as batch_op:
        batch_op.drop_constraint(op.f("fk_units_successor_id_units"), type_="foreignkey")
        batch_op.drop_column("successor_id")
