"""Every SQL statement Picus runs on a request, written once with SQLAlchemy Core.

Statements take named bind parameters (`:id`, `:data`, ...) and are built once per dialect
at start-up; the PostgreSQL database compiles each once more to asyncpg's SQL. Documents go
in as JSON text (`:data`, cast to the column's type), so the database keeps exactly the
text the client sent, numbers included, and come out as JSON text (`data::text`).
"""

from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from picus.storage.item_json import ITEM_JSON
from picus.storage.tables import DocumentType, idempotency_keys, items

# A new item's version; every UPDATE adds one (the ETag is made from it, see picus.etags).
INITIAL_VERSION = 1

# id, document as JSON text, created_at, updated_at, version: the order StoredItem reads.
ITEM_COLUMNS = (
    items.c.id,
    sa.cast(items.c.data, sa.Text).label("data_json"),
    items.c.created_at,
    items.c.updated_at,
    items.c.version,
)

_document = sa.cast(sa.bindparam("data", type_=sa.Text), DocumentType)
_now = sa.bindparam("now", type_=sa.DateTime(timezone=True))
_this_item = items.c.id == sa.bindparam("item_id", type_=sa.BigInteger)
_this_key = (
    idempotency_keys.c.principal == sa.bindparam("principal", type_=sa.String),
    idempotency_keys.c.idempotency_key == sa.bindparam("key", type_=sa.String),
)


def _version_in(dialect: str) -> sa.ColumnElement[bool]:
    """`version` is one of `:versions` (a list of ints): an array on PostgreSQL."""
    if dialect == "postgresql":
        versions = sa.bindparam("versions", type_=postgresql.ARRAY(sa.BigInteger))
        return items.c.version == sa.any_(versions)
    return items.c.version.in_(sa.bindparam("versions", expanding=True))


def _list_chunk() -> sa.Select[tuple[int, str]]:
    """The next `:limit` listed items after `:after`, as (last id, their JSON comma-joined).

    On PostgreSQL the database writes each Item's JSON and joins them (picus.storage.
    item_json), so a long list costs the app almost nothing per item.
    """
    chunk = (
        sa.select(items.c.id, ITEM_JSON)
        .where(items.c.id > sa.bindparam("after", type_=sa.BigInteger))
        .order_by(items.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .subquery()
    )
    joined = sa.func.string_agg(
        chunk.c.item_json, postgresql.aggregate_order_by(sa.literal_column("','"), chunk.c.id)
    )
    return sa.select(sa.func.max(chunk.c.id), joined)


class Statements:
    """The statements for one dialect ("postgresql" or "sqlite"), built once."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.insert_item = _insert_item()
        self.get_item = sa.select(*ITEM_COLUMNS).where(_this_item)
        self.page = _page()
        self.item_exists = sa.select(items.c.id).where(_this_item)
        self.replace_item = _replace(None)
        self.replace_item_if = _replace(_version_in(dialect))
        self.delete_item = items.delete().where(_this_item)
        self.delete_item_if = items.delete().where(_this_item, _version_in(dialect))
        self.ping = sa.select(sa.literal(1))
        self.find_key = _find_key()
        self.insert_key = _insert_key()
        self.delete_expired_key = _delete_expired(*_this_key)
        self.purge_expired_keys = _delete_expired()
        self.list_chunk = _list_chunk() if dialect == "postgresql" else None


@cache
def statements_for(dialect: str) -> Statements:
    """The one set of statements for `dialect` (so each is compiled once per process)."""
    return Statements(dialect)


def _insert_item() -> sa.Insert:
    return (
        items.insert()
        .values(data=_document, created_at=_now, updated_at=_now, version=INITIAL_VERSION)
        .returning(items.c.id)
    )


def _page() -> sa.Select[tuple[int, str, datetime, datetime, int]]:
    """Items with id > `:after`, at most `:limit`, by id (keyset paging)."""
    return (
        sa.select(*ITEM_COLUMNS)
        .where(items.c.id > sa.bindparam("after", type_=sa.BigInteger))
        .order_by(items.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


def _replace(condition: sa.ColumnElement[bool] | None) -> sa.Update:
    """Replace the document and bump the version in one statement (only if `condition`)."""
    where = [_this_item] if condition is None else [_this_item, condition]
    return (
        items.update()
        .where(*where)
        .values(data=_document, updated_at=_now, version=items.c.version + 1)
        .returning(*ITEM_COLUMNS)
    )


def _find_key() -> sa.Select[tuple[int, str, datetime]]:
    return sa.select(
        idempotency_keys.c.item_id,
        idempotency_keys.c.fingerprint,
        idempotency_keys.c.created_at,
    ).where(*_this_key)


def _insert_key() -> sa.Insert:
    return idempotency_keys.insert().values(
        principal=sa.bindparam("principal", type_=sa.String),
        idempotency_key=sa.bindparam("key", type_=sa.String),
        fingerprint=sa.bindparam("fingerprint", type_=sa.String),
        item_id=sa.bindparam("item_id", type_=sa.BigInteger),
        created_at=_now,
    )


def _delete_expired(*conditions: sa.ColumnElement[bool]) -> sa.Delete:
    """Key rows created before `:cutoff` (and matching `conditions`)."""
    cutoff = sa.bindparam("cutoff", type_=sa.DateTime(timezone=True))
    return idempotency_keys.delete().where(*conditions, idempotency_keys.c.created_at < cutoff)
