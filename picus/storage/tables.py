"""Core table definitions, shared by the queries and by Alembic's migrations."""

import json
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

# Compact, UTF-8 and strict: NaN/Infinity must never reach the database.
dump_json = partial(json.dumps, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class SQLiteDocument(sa.types.TypeDecorator[Any]):
    """A JSON document in a TEXT column.

    SQLite gives a column declared `JSON` NUMERIC affinity, which silently turns a stored
    document such as `9223372036854775808` into a lossy REAL. TEXT affinity keeps the
    text exactly as written.
    """

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str:
        return dump_json(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


# One JSON column type for both backends: jsonb on PostgreSQL, JSON text on SQLite.
DocumentType = (
    sa.JSON()
    .with_variant(postgresql.JSONB(), "postgresql")
    .with_variant(SQLiteDocument(), "sqlite")
)

# SQLite only auto-increments a column typed exactly INTEGER.
IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

items = sa.Table(
    "items",
    metadata,
    sa.Column("id", IdType, sa.Identity(), primary_key=True),
    sa.Column("data", DocumentType, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # Bumped by every UPDATE in the same statement; the ETag is made from it (picus.http.etags).
    sa.Column("version", sa.BigInteger(), nullable=False, server_default=sa.text("1")),
    # Never reuse the id of a deleted item: clients may still hold it.
    sqlite_autoincrement=True,
)

# One row per Idempotency-Key a client sent with a create; the primary key is what makes
# concurrent retries with one key create exactly one item.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("principal", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("item_id", IdType, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.PrimaryKeyConstraint("principal", "idempotency_key"),
)

# The change feed: one row per committed write, inserted in the write's own transaction.
# `seq` (the feed position) is given after commit, in commit order, by the sequencer
# (picus.storage.changes): a transaction's own order of inserts is not commit order.
changes = sa.Table(
    "changes",
    metadata,
    # Insert order, never shown: the sequencer numbers committed rows in this order.
    sa.Column("id", IdType, sa.Identity(), primary_key=True),
    sa.Column("seq", sa.BigInteger(), nullable=True, unique=True),
    sa.Column("item_id", sa.BigInteger(), nullable=False),
    sa.Column("op", sa.String(7), nullable=False),  # created, updated, deleted
    sa.Column("version", sa.BigInteger(), nullable=True),  # none for deleted
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Index(
        "ix_changes_unsequenced",
        "id",
        postgresql_where=sa.text("seq IS NULL"),
        sqlite_where=sa.text("seq IS NULL"),
    ),
    sqlite_autoincrement=True,
)

# The feed's numbers on PostgreSQL (SQLite numbers by `changes.id`: it commits one writer
# at a time, so insert order is commit order there).
CHANGES_SEQ = sa.Sequence("changes_seq", metadata=metadata)

# One row: how far retention has removed changes (a position at or past it can resume).
feed_state = sa.Table(
    "feed_state",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("purged_through", sa.BigInteger(), nullable=False),
)
