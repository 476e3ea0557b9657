"""Items: create, read, page, list, replace, patch and delete, on either database.

Documents go in as JSON text (exactly what the client sent, already checked by
picus.documents) and come out as JSON text (`data::text`), so a number keeps every digit
and a read never parses a stored document.

Every write records its change (picus.storage.changes) in the same transaction, and once
it has committed calls `changed`, so the feed can number and announce it.
"""

from collections.abc import AsyncIterator, Callable, Set
from datetime import UTC, datetime
from typing import Any

from picus.errors import ItemNotFound, PreconditionFailed
from picus.storage.database import Connection, Database, Row
from picus.storage.records import StoredItem, from_row, item_json
from picus.storage.statements import INITIAL_VERSION, Statements, statements_for

# A patch: the stored document's JSON text -> the patched document's JSON text.
Patcher = Callable[[str], str]

__all__ = ["INITIAL_VERSION", "ItemStore", "StoredItem"]

# Items per query of the streamed list: each query is short, and the connection goes back
# to the pool between two of them, so a slow reader never holds one.
LIST_CHUNK_ITEMS = 1000


class ItemStore:
    """The items table through one Database."""

    def __init__(self, database: Database, changed: Callable[[], None] = lambda: None) -> None:
        self.database = database
        self.sql = statements_for(database.dialect)
        self.changed = changed

    async def create(self, document_json: str) -> int:
        """Store a document; return its new id once the transaction has committed."""
        if self.sql.writes_with_change:  # the item and its change in one statement
            item_id = await insert_item(self.database, self.sql, document_json)
        else:
            async with self.database.transaction() as conn:
                item_id = await insert_item(conn, self.sql, document_json)
        self.changed()
        return item_id

    async def get(self, item_id: int) -> StoredItem:
        """Read one item or raise ItemNotFound."""
        row = await self.database.fetchrow(self.sql.get_item, item_id=item_id)
        if row is None:
            raise ItemNotFound(item_id)
        return from_row(row)

    async def page(self, after: int, limit: int) -> tuple[list[StoredItem], bool]:
        """Items with id > after, at most `limit` of them, and whether more remain (keyset)."""
        rows = await self.database.fetch(self.sql.page, after=after, limit=limit + 1)
        return [from_row(row) for row in rows[:limit]], len(rows) > limit

    async def list_json(self, after: int = 0) -> AsyncIterator[str]:
        """Every item with id > after as Item JSON, comma-joined per chunk, in id order.

        Read in keyset chunks of short queries, so no connection or transaction is held
        between chunks. A reader sees every item that existed throughout its read exactly
        once, in id order; an item created or deleted meanwhile may or may not appear.
        The first chunk is read before this returns, so an unreachable database raises
        here, in time for a 503, and not half-way through an answer.
        """
        first, last_id = await self._chunk(after)
        return self._chunks(first, last_id)

    async def _chunks(self, first: str, last_id: int | None) -> AsyncIterator[str]:
        chunk = first
        while last_id is not None:
            yield chunk
            chunk, last_id = await self._chunk(last_id)

    async def _chunk(self, after: int) -> tuple[str, int | None]:
        """The chunk after `after` as JSON text, and its last id (None: nothing more)."""
        if self.sql.list_chunk is not None:  # PostgreSQL writes the JSON
            row = await self.database.fetchrow(
                self.sql.list_chunk, after=after, limit=LIST_CHUNK_ITEMS
            )
            if row is None or row[0] is None:
                return "", None
            return row[1], row[0]
        rows = await self.database.fetch(self.sql.page, after=after, limit=LIST_CHUNK_ITEMS)
        if not rows:
            return "", None
        items = [from_row(row) for row in rows]
        return ",".join(item_json(item) for item in items), items[-1].id

    async def replace(
        self, item_id: int, document_json: str, expected: Set[int] | None = None
    ) -> StoredItem:
        """Replace an item's document and bump its version, in one conditional UPDATE.

        With `expected`, the row changes only if its version is one of them, so of two
        writers that read the same version exactly one wins: the database decides.
        Raises ItemNotFound, or PreconditionFailed when the item is at another version.
        """
        async with self.database.transaction() as conn:
            row = await self._replace(conn, item_id, document_json, expected)
            if row is None:
                raise await self._why_unchanged(conn, item_id)
        self.changed()
        return from_row(row)

    async def patch(
        self, item_id: int, patcher: Patcher, expected: Set[int] | None = None
    ) -> StoredItem:
        """Change an item's document by `patcher`, atomically: the row is locked from the
        read to the write, so concurrent patches of one item apply one after the other.

        Raises ItemNotFound, or PreconditionFailed when the item is at another version.
        """
        async with self.database.transaction() as conn:
            locked = await conn.fetchrow(self.sql.lock_item, item_id=item_id)
            if locked is None:
                raise ItemNotFound(item_id)
            version, stored_json = locked
            if expected is not None and version not in expected:
                raise PreconditionFailed(item_id)
            row = await self._replace(conn, item_id, patcher(stored_json), {version})
            assert row is not None, "the row is locked at this version"
        self.changed()
        return from_row(row)

    async def _replace(
        self, conn: Connection, item_id: int, document_json: str, expected: Set[int] | None
    ) -> Row | None:
        """The replace itself (with its change); the row, or None if nothing changed."""
        params: dict[str, Any] = {
            "item_id": item_id,
            "data": document_json,
            "now": datetime.now(UTC),
        }
        if expected is None:
            row = await conn.fetchrow(self.sql.replace_item, **params)
        else:
            row = await conn.fetchrow(self.sql.replace_item_if, versions=sorted(expected), **params)
        if row is not None:
            await record_change(conn, self.sql, item_id, "updated", row[-1])
        return row

    async def delete(self, item_id: int, expected: Set[int] | None = None) -> None:
        """Delete one item (only at an `expected` version, if given).

        Raises ItemNotFound, or PreconditionFailed when the item is at another version.
        """
        now = datetime.now(UTC)
        async with self.database.transaction() as conn:
            if expected is None:
                row = await conn.fetchrow(self.sql.delete_item, item_id=item_id, now=now)
            else:
                row = await conn.fetchrow(
                    self.sql.delete_item_if, item_id=item_id, versions=sorted(expected), now=now
                )
            if row is None:
                raise await self._why_unchanged(conn, item_id)
            await record_change(conn, self.sql, item_id, "deleted", None)
        self.changed()

    async def _why_unchanged(self, conn: Connection, item_id: int) -> Exception:
        exists = await conn.fetchrow(self.sql.item_exists, item_id=item_id)
        return PreconditionFailed(item_id) if exists else ItemNotFound(item_id)

    async def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers a trivial query."""
        await self.database.fetchrow(self.sql.ping)


async def insert_item(conn: Connection, sql: Statements, document_json: str) -> int:
    """Insert one item and its change on `conn`; return its id.

    On SQLite `conn` must be in a transaction (the change is a second statement).
    """
    now = datetime.now(UTC)
    row = await conn.fetchrow(sql.insert_item, data=document_json, now=now)
    assert row is not None, "INSERT ... RETURNING returns the row"
    item_id, version = int(row[0]), int(row[1])
    await record_change(conn, sql, item_id, "created", version)
    return item_id


async def record_change(
    conn: Connection, sql: Statements, item_id: int, op: str, version: int | None
) -> None:
    """The change row of a write just made on `conn` (PostgreSQL's statements made it)."""
    if not sql.writes_with_change:
        await conn.execute(
            sql.record_change, item_id=item_id, op=op, version=version, now=datetime.now(UTC)
        )
