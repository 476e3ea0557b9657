"""The embedded SQLite default on the request path: SQLAlchemy's engine in a worker thread.

SQLite has no network to wait on, but its calls block (on the disk, on the write lock), so
each runs in a worker thread. It is the zero-setup default, not the fast path: PostgreSQL
runs on asyncpg (picus.storage.postgres). The statements are the same Core statements.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import sqlalchemy as sa
from anyio import to_thread
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext

from picus.config import Settings
from picus.errors import DuplicateKey
from picus.storage.database import Connection, PoolObserver, Row, Statement
from picus.storage.engine import create_engine, error_cause, unavailable_as_storage_error

T = TypeVar("T")


class _SQLiteConnection:
    """One SQLAlchemy connection; each call runs in a worker thread."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    async def fetch(self, statement: Statement, **params: object) -> list[Row]:
        return await _in_thread(lambda: list(self._conn.execute(statement, params).all()))

    async def fetchrow(self, statement: Statement, **params: object) -> Row | None:
        return await _in_thread(lambda: self._conn.execute(statement, params).first())

    async def execute(self, statement: Statement, **params: object) -> int:
        return await _in_thread(lambda: self._conn.execute(statement, params).rowcount)


class SQLiteDatabase:
    """SQLAlchemy's synchronous engine on the SQLite file, behind the `Database` protocol."""

    dialect = "sqlite"

    def __init__(self, settings: Settings, observer: PoolObserver) -> None:
        self.engine = create_engine(settings)
        self._observer = observer
        observer.pool_size(settings.db_pool_size)

        def count_error(context: ExceptionContext) -> None:
            exc = context.sqlalchemy_exception or context.original_exception
            if not isinstance(exc, sa.exc.IntegrityError):
                observer.error(error_cause(exc))

        event.listen(self.engine, "handle_error", count_error)

    async def fetch(self, statement: Statement, **params: object) -> list[Row]:
        async with self.transaction() as conn:
            return await conn.fetch(statement, **params)

    async def fetchrow(self, statement: Statement, **params: object) -> Row | None:
        async with self.transaction() as conn:
            return await conn.fetchrow(statement, **params)

    async def execute(self, statement: Statement, **params: object) -> int:
        async with self.transaction() as conn:
            return await conn.execute(statement, **params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection in a transaction, committed on success (single statements too)."""
        conn = await _in_thread(self.engine.connect)
        self._observer.checked_out(1)
        try:
            await _in_thread(conn.begin)
            yield _SQLiteConnection(conn)
            await _in_thread(conn.commit)
        finally:
            self._observer.checked_out(-1)
            await _in_thread(conn.close)  # rolls back what was not committed

    async def close(self) -> None:
        await _in_thread(self.engine.dispose)

    async def listen(
        self, on_payload: Callable[[str], None], on_lost: Callable[[], None]
    ) -> Callable[[], Awaitable[None]]:
        raise NotImplementedError("SQLite has no notifications: the feed polls it")


async def _in_thread(call: Callable[[], T]) -> T:
    """Run a blocking SQLAlchemy call off the event loop, with storage's error types."""

    def translated() -> T:
        with unavailable_as_storage_error():
            try:
                return call()
            except sa.exc.IntegrityError as exc:
                raise DuplicateKey(str(exc.orig)) from exc

    return await to_thread.run_sync(translated)
