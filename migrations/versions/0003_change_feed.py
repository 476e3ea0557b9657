"""The change feed: the changes table, its sequence, and the retention mark.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from picus.storage.tables import IdType

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", IdType, sa.Identity(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=True, unique=True),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("op", sa.String(7), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_changes_at", "changes", ["at"])
    op.create_index(
        "ix_changes_unsequenced",
        "changes",
        ["id"],
        postgresql_where=sa.text("seq IS NULL"),
        sqlite_where=sa.text("seq IS NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence("changes_seq")))
    feed_state = op.create_table(
        "feed_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("purged_through", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(feed_state, [{"id": 1, "purged_through": 0}])


def downgrade() -> None:
    op.drop_table("feed_state")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("changes_seq")))
    op.drop_index("ix_changes_unsequenced", table_name="changes")
    op.drop_index("ix_changes_at", table_name="changes")
    op.drop_table("changes")
