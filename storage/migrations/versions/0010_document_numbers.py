"""The board's document register: the numbers given to the reports it issues, per symbol, type and term.

Revision ID: 0010
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_numbers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("issuer_code", sa.String(32), nullable=False),
        sa.Column("doc_type", sa.String(16), nullable=False),
        sa.Column("term", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directives.id"],
            name=op.f("fk_document_numbers_directive_id_directives"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_numbers")),
        sa.UniqueConstraint(
            "issuer_code", "doc_type", "term", "number", name=op.f("uq_document_numbers_issuer_code")
        ),
    )
    op.create_index("ix_document_numbers_directive_id", "document_numbers", ["directive_id"])


def downgrade() -> None:
    op.drop_index("ix_document_numbers_directive_id", table_name="document_numbers")
    op.drop_table("document_numbers")
