"""Queries on the items table. Documents go in as Python values and come out as JSON text.

Reads hand back the database's own JSON text (`data::text`), so a read never parses and
re-serialises a document; the HTTP layer splices it into the answer as it is.
"""

from collections.abc import Iterator, Set
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from picus.storage.engine import unavailable_as_storage_error
from picus.storage.errors import ItemNotFound, PreconditionFailed, UnstorableDocument
from picus.storage.item_json import ITEM_JSON
from picus.storage.tables import items

# SQLSTATE 22P05 (untranslatable_character): jsonb refuses U+0000 in strings.
_UNSTORABLE_SQLSTATES = frozenset({"22P05"})

STREAM_CHUNK_ROWS = 1000
# Items per piece of a database-written list: about 64 KiB of JSON, like the Python path.
JSON_CHUNK_ITEMS = 250

# A new item's version; every UPDATE adds one (the ETag is made from it, see picus.etags).
INITIAL_VERSION = 1

_COLUMNS = (
    items.c.id,
    sa.cast(items.c.data, sa.Text).label("data_json"),
    items.c.created_at,
    items.c.updated_at,
    items.c.version,
)

_Row = sa.Row[tuple[int, str, datetime, datetime, int]]


@dataclass(frozen=True, slots=True)
class StoredItem:
    """One row as read back: the document is JSON text, timestamps are aware (UTC)."""

    id: int
    data_json: str
    created_at: datetime
    updated_at: datetime
    version: int


def _from_row(row: _Row) -> StoredItem:
    created, updated = row.created_at, row.updated_at
    # SQLite hands timestamps back naive; they were written in UTC.
    if created.tzinfo is None:
        created, updated = created.replace(tzinfo=UTC), updated.replace(tzinfo=UTC)
    return StoredItem(row.id, row.data_json, created, updated, row.version)


@contextmanager
def _unstorable_as_error() -> Iterator[None]:
    """Turn the database's refusal of a document's content into UnstorableDocument."""
    try:
        yield
    except sa.exc.DataError as exc:
        if getattr(exc.orig, "pgcode", None) in _UNSTORABLE_SQLSTATES:
            raise UnstorableDocument(str(exc.orig).strip().splitlines()[0]) from exc
        raise


def insert_item(conn: sa.Connection, document: object) -> int:
    """Insert one item inside the caller's transaction; return its id."""
    now = datetime.now(UTC)
    statement = (
        items.insert()
        .values(data=document, created_at=now, updated_at=now, version=INITIAL_VERSION)
        .returning(items.c.id)
    )
    with _unstorable_as_error():
        return int(conn.execute(statement).scalar_one())


class ItemStore:
    """Create, read, list and delete items through one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, document: object) -> int:
        """Store a document; return its new id once the transaction has committed."""
        with unavailable_as_storage_error(), self.engine.begin() as conn:
            return insert_item(conn, document)

    def get(self, item_id: int) -> StoredItem:
        """Read one item or raise ItemNotFound."""
        statement = sa.select(*_COLUMNS).where(items.c.id == item_id)
        with unavailable_as_storage_error(), self.engine.connect() as conn:
            row = conn.execute(statement).one_or_none()
        if row is None:
            raise ItemNotFound(item_id)
        return _from_row(row)

    def page(self, after: int, limit: int) -> tuple[list[StoredItem], bool]:
        """Items with id > after, at most `limit` of them, and whether more remain (keyset)."""
        statement = (
            sa.select(*_COLUMNS).where(items.c.id > after).order_by(items.c.id).limit(limit + 1)
        )
        with unavailable_as_storage_error(), self.engine.connect() as conn:
            rows = conn.execute(statement).all()
        return [_from_row(row) for row in rows[:limit]], len(rows) > limit

    def stream(self, after: int = 0) -> Iterator[StoredItem]:
        """Every item with id > after, read through a server-side cursor in fixed chunks.

        The query runs before this returns, so an unreachable database raises here, not
        half-way through an answer. Memory stays flat however many items there are; the
        connection is held until the iterator is exhausted or closed.
        """
        statement = sa.select(*_COLUMNS).where(items.c.id > after).order_by(items.c.id)
        conn, result = self._open_stream(statement)
        return _stream_rows(conn, result)

    @property
    def writes_item_json(self) -> bool:
        """True when the database writes listed Items' JSON itself (see `stream_json`)."""
        return self.engine.dialect.name == "postgresql"

    def stream_json(self, after: int = 0) -> Iterator[str]:
        """As `stream`, but as the Items' JSON text, comma-joined per chunk (PostgreSQL only).

        Each Item's JSON is written by PostgreSQL (picus.storage.item_json), so a long list
        costs the app almost no CPU per item.
        """
        statement = sa.select(ITEM_JSON).where(items.c.id > after).order_by(items.c.id)
        conn, result = self._open_stream(statement)
        return _stream_json_chunks(conn, result.scalars())

    def _open_stream(self, statement: sa.Select[Any]) -> tuple[sa.Connection, sa.CursorResult[Any]]:
        """Run `statement` on a server-side cursor; the caller's iterator closes the connection.

        The query runs here, before any answer starts, so an unreachable database raises
        StorageUnavailable in time for a 503.
        """
        with unavailable_as_storage_error():
            conn = self.engine.connect()
            try:
                return conn, conn.execution_options(yield_per=STREAM_CHUNK_ROWS).execute(statement)
            except BaseException:
                conn.close()
                raise

    def replace(
        self, item_id: int, document: object, expected: Set[int] | None = None
    ) -> StoredItem:
        """Replace an item's document and bump its version, in one conditional UPDATE.

        With `expected`, the row changes only if its version is one of them, so of two
        writers that read the same version exactly one wins: the database decides.
        Raises ItemNotFound, or PreconditionFailed when the item is at another version.
        """
        statement = (
            items.update()
            .where(*_conditions(item_id, expected))
            .values(data=document, updated_at=datetime.now(UTC), version=items.c.version + 1)
            .returning(*_COLUMNS)
        )
        with unavailable_as_storage_error(), self.engine.begin() as conn:
            with _unstorable_as_error():
                row = conn.execute(statement).one_or_none()
            if row is None:
                raise self._why_unchanged(conn, item_id)
        return _from_row(row)

    def delete(self, item_id: int, expected: Set[int] | None = None) -> None:
        """Delete one item (only at an `expected` version, if given).

        Raises ItemNotFound, or PreconditionFailed when the item is at another version.
        """
        statement = items.delete().where(*_conditions(item_id, expected))
        with unavailable_as_storage_error(), self.engine.begin() as conn:
            if not conn.execute(statement).rowcount:
                raise self._why_unchanged(conn, item_id)

    @staticmethod
    def _why_unchanged(conn: sa.Connection, item_id: int) -> Exception:
        exists = conn.execute(sa.select(items.c.id).where(items.c.id == item_id)).first()
        return PreconditionFailed(item_id) if exists else ItemNotFound(item_id)

    def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers a trivial query."""
        with unavailable_as_storage_error(), self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))


def _conditions(item_id: int, expected: Set[int] | None) -> list[sa.ColumnElement[bool]]:
    conditions = [items.c.id == item_id]
    if expected is not None:
        conditions.append(items.c.version.in_(sorted(expected)))
    return conditions


def _stream_json_chunks(conn: sa.Connection, result: sa.ScalarResult[str]) -> Iterator[str]:
    try:
        with unavailable_as_storage_error():
            for chunk in result.partitions(JSON_CHUNK_ITEMS):
                yield ",".join(chunk)
    finally:
        conn.close()


def _stream_rows(conn: sa.Connection, result: sa.CursorResult[Any]) -> Iterator[StoredItem]:
    try:
        with unavailable_as_storage_error():
            for row in result:
                yield _from_row(row)
    finally:
        conn.close()
