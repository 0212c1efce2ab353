"""Index a directive's targets by how far their delivery got, so finding whether any is still undelivered (which
the sender asks after every batch it records, to settle the directive) is one index lookup, not a scan.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_targets_delivery", "directive_targets", ["directive_id", "delivery"])


def downgrade() -> None:
    op.drop_index("ix_targets_delivery", table_name="directive_targets")
