"""board: an index for the daily summary's "new reports since yesterday"

The summary counts, per directive, the first versions submitted in the last day. With (submitted_at, version,
directive_id) that is an index-only range scan of the recent reports instead of a walk over every report.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_reports_recent", "reports", ["submitted_at", "version", "directive_id"])


def downgrade() -> None:
    op.drop_index("ix_reports_recent", table_name="reports")
