"""A file keeps the name the board gave it in each directive, even when its bytes equal another file's: the name
moves onto the directive's file, and a platform's handle of an upload is kept per name (a resend by handle keeps
the name of the upload). Handles kept so far are dropped: a cache, each file is uploaded once more.

Revision ID: 0009_names
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_names"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("directive_files") as batch:
        batch.add_column(sa.Column("name", sa.String(255), nullable=True))
    op.drop_table("channel_files")
    _channel_files(with_name=True)


def downgrade() -> None:
    op.drop_table("channel_files")
    _channel_files(with_name=False)
    with op.batch_alter_table("directive_files") as batch:
        batch.drop_column("name")


def _channel_files(*, with_name: bool) -> None:
    key = ["channel", "sha256", "name"] if with_name else ["channel", "sha256"]
    name = [sa.Column("name", sa.String(255), nullable=False)] if with_name else []
    op.create_table(
        "channel_files",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        *name,
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["files.sha256"], name=op.f("fk_channel_files_sha256_files")),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_channel_files")),
    )
