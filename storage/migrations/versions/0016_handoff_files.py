"""Levels: the files a lower unit's board adds to an upper directive before forwarding it to its cells.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "handoff_files",
        sa.Column("id", ID, nullable=False),
        sa.Column("directive_id", ID, nullable=False),
        sa.Column("unit_id", ID, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directives.id"],
            name=op.f("fk_handoff_files_directive_id_directives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_handoff_files_unit_id_units")),
        sa.ForeignKeyConstraint(["sha256"], ["files.sha256"], name=op.f("fk_handoff_files_sha256_files")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_files")),
    )
    with op.batch_alter_table("handoff_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_files_directive_id"), ["directive_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handoff_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_files_directive_id"))
    op.drop_table("handoff_files")
