"""Queries on the items table. Documents go in as Python values and come out as JSON text.

Reads hand back the database's own JSON text (`data::text`), so a read never parses and
re-serialises a document; the HTTP layer splices it into the answer as it is.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from picus.storage.engine import unavailable_as_storage_error
from picus.storage.errors import ItemNotFound, UnstorableDocument
from picus.storage.tables import items

# SQLSTATE 22P05 (untranslatable_character): jsonb refuses U+0000 in strings.
_UNSTORABLE_SQLSTATES = frozenset({"22P05"})

STREAM_CHUNK_ROWS = 1000

_COLUMNS = (
    items.c.id,
    sa.cast(items.c.data, sa.Text).label("data_json"),
    items.c.created_at,
    items.c.updated_at,
)


@dataclass(frozen=True, slots=True)
class StoredItem:
    """One row as read back: the document is JSON text, timestamps are aware (UTC)."""

    id: int
    data_json: str
    created_at: datetime
    updated_at: datetime


def _from_row(row: sa.Row[tuple[int, str, datetime, datetime]]) -> StoredItem:
    created, updated = row.created_at, row.updated_at
    # SQLite hands timestamps back naive; they were written in UTC.
    if created.tzinfo is None:
        created, updated = created.replace(tzinfo=UTC), updated.replace(tzinfo=UTC)
    return StoredItem(row.id, row.data_json, created, updated)


class ItemStore:
    """Create, read, list and delete items through one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, document: object) -> int:
        """Store a document; return its new id once the transaction has committed."""
        now = datetime.now(UTC)
        statement = (
            items.insert()
            .values(data=document, created_at=now, updated_at=now)
            .returning(items.c.id)
        )
        with unavailable_as_storage_error():
            try:
                with self.engine.begin() as conn:
                    return int(conn.execute(statement).scalar_one())
            except sa.exc.DataError as exc:
                if getattr(exc.orig, "pgcode", None) in _UNSTORABLE_SQLSTATES:
                    raise UnstorableDocument(str(exc.orig).strip().splitlines()[0]) from exc
                raise

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
        with unavailable_as_storage_error():
            conn = self.engine.connect()
            try:
                result = conn.execution_options(yield_per=STREAM_CHUNK_ROWS).execute(statement)
            except BaseException:
                conn.close()
                raise
        return _stream_rows(conn, result)

    def delete(self, item_id: int) -> None:
        """Delete one item or raise ItemNotFound."""
        statement = items.delete().where(items.c.id == item_id)
        with unavailable_as_storage_error(), self.engine.begin() as conn:
            deleted = conn.execute(statement).rowcount
        if not deleted:
            raise ItemNotFound(item_id)

    def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers a trivial query."""
        with unavailable_as_storage_error(), self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))


def _stream_rows(
    conn: sa.Connection, result: sa.CursorResult[tuple[int, str, datetime, datetime]]
) -> Iterator[StoredItem]:
    try:
        with unavailable_as_storage_error():
            for row in result:
                yield _from_row(row)
    finally:
        conn.close()
