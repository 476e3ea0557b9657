"""What the stores need from a database: run a Core statement, in or out of a transaction.

Two implementations stand behind it: asyncpg on PostgreSQL (`picus.storage.postgres`, the
fast path: each statement compiled once, run as a prepared statement) and SQLAlchemy's
synchronous engine on the embedded SQLite file, run in a worker thread
(`picus.storage.sqlite`). Both take the same Core statements with named bind parameters
and hand rows back as tuples in the statement's column order, so the stores above them
are written once.

Every failure that means "the database is not there right now" leaves an implementation
as StorageUnavailable with a short cause; a broken unique constraint as DuplicateKey; a
document the database refuses as UnstorableDocument.
"""

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import sqlalchemy as sa

from picus.config import Settings

Row = Sequence[Any]
# A Core statement with named bind parameters (see picus.storage.statements).
Statement = sa.Select[Any] | sa.Insert | sa.Update | sa.Delete


class Connection(Protocol):
    """One connection (inside a transaction, when it came from `Database.transaction`)."""

    async def fetch(self, statement: Statement, **params: object) -> list[Row]:
        """Every row the statement returns."""
        ...

    async def fetchrow(self, statement: Statement, **params: object) -> Row | None:
        """The first row, or None."""
        ...

    async def execute(self, statement: Statement, **params: object) -> int:
        """Run a statement; return how many rows it changed."""
        ...


class Database(Connection, Protocol):
    """A pool of connections; single statements run on any, a transaction holds one."""

    dialect: str

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A connection in a transaction: committed on exit, rolled back on an exception."""
        ...

    async def close(self) -> None:
        """Close every connection (the app is stopping)."""
        ...

    async def listen(
        self, on_payload: Callable[[str], None], on_lost: Callable[[], None]
    ) -> Callable[[], Awaitable[None]]:
        """Hear the change feed's announcements on a connection of its own (PostgreSQL).

        Returns the coroutine function that closes it; `on_lost` is called if it drops.
        """
        ...


class PoolObserver(Protocol):
    """Where a database reports its pool and its errors (observability implements it)."""

    def pool_size(self, size: int) -> None:
        """The pool keeps this many connections."""

    def checked_out(self, delta: int) -> None:
        """A request took (+1) or gave back (-1) a connection."""

    def error(self, cause: str) -> None:
        """The driver failed, for this cause (see `picus.errors`)."""


class _Unobserved:
    def pool_size(self, size: int) -> None:
        pass

    def checked_out(self, delta: int) -> None:
        pass

    def error(self, cause: str) -> None:
        pass


UNOBSERVED: PoolObserver = _Unobserved()


async def open_database(settings: Settings, observer: PoolObserver = UNOBSERVED) -> Database:
    """The request path's database for `settings`, its pool opened (PostgreSQL) or ready."""
    if settings.database.backend == "postgresql":
        from picus.storage.postgres import open_postgres

        return await open_postgres(settings, observer)
    from picus.storage.sqlite import SQLiteDatabase

    return SQLiteDatabase(settings, observer)
