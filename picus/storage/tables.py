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
    # Bumped by every UPDATE in the same statement; the ETag is made from it (picus.etags).
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
