"""Items: create, read, page, list, replace and delete, on either database.

Documents go in as JSON text (exactly what the client sent, already checked by
picus.documents) and come out as JSON text (`data::text`), so a number keeps every digit
and a read never parses a stored document.
"""

from collections.abc import AsyncIterator, Set
from datetime import UTC, datetime

from picus.storage.database import Connection, Database
from picus.storage.errors import ItemNotFound, PreconditionFailed
from picus.storage.records import StoredItem, from_row, item_json
from picus.storage.statements import INITIAL_VERSION, Statements, statements_for

__all__ = ["INITIAL_VERSION", "ItemStore", "StoredItem"]

# Items per query of the streamed list: each query is short, and the connection goes back
# to the pool between two of them, so a slow reader never holds one.
LIST_CHUNK_ITEMS = 1000


class ItemStore:
    """The items table through one Database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.sql = statements_for(database.dialect)

    async def create(self, document_json: str) -> int:
        """Store a document; return its new id once the transaction has committed."""
        return await insert_item(self.database, self.sql, document_json)

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
        now = datetime.now(UTC)
        async with self.database.transaction() as conn:
            if expected is None:
                row = await conn.fetchrow(
                    self.sql.replace_item, item_id=item_id, data=document_json, now=now
                )
            else:
                row = await conn.fetchrow(
                    self.sql.replace_item_if,
                    item_id=item_id,
                    data=document_json,
                    now=now,
                    versions=sorted(expected),
                )
            if row is None:
                raise await self._why_unchanged(conn, item_id)
        return from_row(row)

    async def delete(self, item_id: int, expected: Set[int] | None = None) -> None:
        """Delete one item (only at an `expected` version, if given).

        Raises ItemNotFound, or PreconditionFailed when the item is at another version.
        """
        async with self.database.transaction() as conn:
            if expected is None:
                deleted = await conn.execute(self.sql.delete_item, item_id=item_id)
            else:
                deleted = await conn.execute(
                    self.sql.delete_item_if, item_id=item_id, versions=sorted(expected)
                )
            if not deleted:
                raise await self._why_unchanged(conn, item_id)

    async def _why_unchanged(self, conn: Connection, item_id: int) -> Exception:
        exists = await conn.fetchrow(self.sql.item_exists, item_id=item_id)
        return PreconditionFailed(item_id) if exists else ItemNotFound(item_id)

    async def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers a trivial query."""
        await self.database.fetchrow(self.sql.ping)


async def insert_item(conn: Connection, sql: Statements, document_json: str) -> int:
    """Insert one item on `conn` (inside the caller's transaction, if any); return its id."""
    now = datetime.now(UTC)
    row = await conn.fetchrow(sql.insert_item, data=document_json, now=now)
    assert row is not None, "INSERT ... RETURNING returns the row"
    return int(row[0])
