"""Index the outbox by chat, so a typed answer finds the choices last offered in that chat at once.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_chat", "outbox", ["channel", "chat_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_chat", table_name="outbox")
