"""Splits of units: a unit split into several keeps one row per successor, so a campaign handed to it before the
split counts toward each successor by where its cells now are (a merge needs only `units.successor_id`).

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "unit_splits",
        sa.Column("unit_id", ID, nullable=False),
        sa.Column("successor_id", ID, nullable=False),
        sa.Column("split_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_unit_splits_unit_id_units")),
        sa.ForeignKeyConstraint(
            ["successor_id"], ["units.id"], name=op.f("fk_unit_splits_successor_id_units")
        ),
        sa.PrimaryKeyConstraint("unit_id", "successor_id", name=op.f("pk_unit_splits")),
    )


def downgrade() -> None:
    op.drop_table("unit_splits")
