"""The request path's PostgreSQL: asyncpg's pool running statements compiled once from Core.

Why not SQLAlchemy's AsyncEngine: measured on this machine kind it adds 0.15-0.6 ms of CPU
per request over the driver (greenlet hand-offs, DBAPI adaptation), as much as the rest of
a GET. The statements stay SQLAlchemy Core (picus.storage.statements); each is compiled
once to asyncpg's SQL and then runs as a prepared statement.

The pool is fixed-size (connections open on demand up to `PICUS_DB_POOL_SIZE` and stay):
a pool that opens and closes overflow connections under load multiplied PostgreSQL's CPU
per request. Requests queue for a connection for at most `PICUS_DB_POOL_TIMEOUT`.
Releasing a connection only rolls back an open transaction: Picus leaves no session state,
and asyncpg's full reset costs a round trip per request.
"""

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, NamedTuple, TypeVar, cast

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from picus.config import Settings
from picus.errors import DuplicateKey, StorageUnavailable, UnstorableDocument
from picus.storage.database import Connection, PoolObserver, Row, Statement
from picus.storage.engine import snake_case
from picus.storage.statements import CHANGES_CHANNEL

T = TypeVar("T")
logger = logging.getLogger("picus.database")
_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]

# SQLSTATEs that mean "not now": the request may succeed later (503 with Retry-After).
_UNAVAILABLE = {
    "57014": "statement_timeout",  # query_canceled
    "40P01": "deadlock",
    "40001": "serialization_failure",
    "55P03": "lock_not_available",
    "53300": "too_many_connections",
    "57P01": "admin_shutdown",
    "57P02": "crash_shutdown",
    "57P03": "cannot_connect_now",  # starting up or shutting down
}
# SQLSTATEs that mean "this document cannot be kept": U+0000 in a jsonb string, a number
# beyond numeric's range, or a value past a size limit.
_UNSTORABLE = frozenset({"22P05", "22003", "22P02", "54000"})
_UNIQUE_VIOLATION = "23505"


class _Compiled(NamedTuple):
    """A statement as asyncpg runs it: SQL with $n, and where each argument comes from."""

    sql: str
    names: tuple[str, ...]  # the caller's parameter for $n, or "" for a constant
    constants: tuple[Any, ...]
    read_only: bool


def compile_statement(statement: Statement) -> _Compiled:
    """Compile a Core statement for asyncpg (bind casts rendered, constants kept aside)."""
    compiled = statement.compile(dialect=_DIALECT)
    names: list[str] = []
    constants: list[Any] = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        names.append(name if bind.required else "")
        constants.append(None if bind.required else bind.effective_value)
    read_only = bool(getattr(statement, "is_select", False))
    return _Compiled(compiled.string, tuple(names), tuple(constants), read_only)


class _Statements:
    """Compiled statements by identity, compiled on first use (statements are module-level)."""

    def __init__(self) -> None:
        self._compiled: dict[int, tuple[Statement, _Compiled]] = {}

    def prepare(
        self, statement: Statement, params: dict[str, object]
    ) -> tuple[_Compiled, list[Any]]:
        entry = self._compiled.get(id(statement))
        if entry is None or entry[0] is not statement:
            entry = (statement, compile_statement(statement))
            self._compiled[id(statement)] = entry
        compiled = entry[1]
        args = [
            params[name] if name else constant
            for name, constant in zip(compiled.names, compiled.constants, strict=True)
        ]
        return compiled, args


class _PostgresConnection:
    """One pooled connection (in a transaction when it came from `transaction()`)."""

    def __init__(
        self, conn: asyncpg.Connection, statements: _Statements, observer: PoolObserver
    ) -> None:
        self._conn = conn
        self._statements = statements
        self._observer = observer

    async def fetch(self, statement: Statement, **params: object) -> list[Row]:
        compiled, args = self._statements.prepare(statement, params)
        with _translated(self._observer):
            rows = await self._conn.fetch(compiled.sql, *args)
        return cast(list[Row], rows)

    async def fetchrow(self, statement: Statement, **params: object) -> Row | None:
        compiled, args = self._statements.prepare(statement, params)
        with _translated(self._observer):
            row = await self._conn.fetchrow(compiled.sql, *args)
        return cast(Row | None, row)

    async def execute(self, statement: Statement, **params: object) -> int:
        compiled, args = self._statements.prepare(statement, params)
        with _translated(self._observer):
            status: str = await self._conn.execute(compiled.sql, *args)
        return _rowcount(status)


class PostgresDatabase:
    """asyncpg's pool behind the `Database` protocol."""

    dialect = "postgresql"

    def __init__(
        self,
        pool: asyncpg.Pool,
        acquire_timeout: float,
        observer: PoolObserver,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
    ) -> None:
        self._pool = pool
        self._connect = connect
        self._acquire_timeout = acquire_timeout
        self._observer = observer
        self._statements = _Statements()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[_PostgresConnection]:
        with _translated(self._observer):
            try:
                conn = await self._pool.acquire(timeout=self._acquire_timeout)
            except TimeoutError:
                self._observer.error("pool_timeout")
                raise StorageUnavailable(
                    "no database connection was free in time", "pool_timeout"
                ) from None
        self._observer.checked_out(1)
        try:
            yield _PostgresConnection(conn, self._statements, self._observer)
        finally:
            self._observer.checked_out(-1)
            await _release(self._pool, conn)

    async def fetch(self, statement: Statement, **params: object) -> list[Row]:
        return await self._with_retry(lambda conn: conn.fetch(statement, **params), statement)

    async def fetchrow(self, statement: Statement, **params: object) -> Row | None:
        return await self._with_retry(lambda conn: conn.fetchrow(statement, **params), statement)

    async def execute(self, statement: Statement, **params: object) -> int:
        async with self._connection() as conn:
            return await conn.execute(statement, **params)

    async def _with_retry(
        self, run: Callable[[_PostgresConnection], Awaitable[T]], statement: Statement
    ) -> T:
        """Run on a pooled connection; a read that met a dropped connection runs once more.

        After PostgreSQL restarts, each pooled connection fails once before the pool
        replaces it; a read is safe to repeat on a fresh one (a write may have committed).
        """
        attempts = 2 if getattr(statement, "is_select", False) else 1
        for attempt in range(attempts):
            try:
                async with self._connection() as conn:
                    return await run(conn)
            except StorageUnavailable as exc:
                if exc.cause != "disconnect" or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._connection() as conn:
            with _translated(self._observer):
                transaction = conn._conn.transaction()
                await transaction.start()
            try:
                yield conn
            except BaseException:
                with _translated(self._observer):
                    await transaction.rollback()
                raise
            with _translated(self._observer):
                await transaction.commit()

    async def close(self) -> None:
        await self._pool.close()

    async def listen(
        self, on_payload: Callable[[str], None], on_lost: Callable[[], None]
    ) -> Callable[[], Awaitable[None]]:
        """LISTEN on the feed's channel on a connection outside the pool (held for good)."""
        with _translated(self._observer):
            conn = await self._connect()
            try:
                await conn.add_listener(
                    CHANGES_CHANNEL, lambda _conn, _pid, _channel, payload: on_payload(payload)
                )
            except BaseException:
                conn.terminate()
                raise
        conn.add_termination_listener(lambda _conn: on_lost())

        async def close() -> None:
            if not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close(timeout=1)

        return close


async def open_postgres(settings: Settings, observer: PoolObserver) -> PostgresDatabase:
    """A pool for `settings`; it connects on first use, so a database that is down now
    makes requests answer 503 instead of stopping the app from starting."""
    options: dict[str, Any] = {
        "command_timeout": settings.db_statement_timeout,
        "timeout": settings.db_connect_timeout,
        "server_settings": {"application_name": "picus", "timezone": "UTC"},
    }
    pool = await asyncpg.create_pool(
        settings.database.asyncpg_dsn,
        min_size=0,
        max_size=settings.db_pool_size,
        max_inactive_connection_lifetime=0,  # never close an idle connection: a fixed pool
        reset=_rollback_only,
        statement_cache_size=settings.db_statement_cache_size,  # 0 behind PgBouncer 1.18
        **options,
    )
    observer.pool_size(settings.db_pool_size)

    async def connect_listener() -> asyncpg.Connection:
        # LISTEN needs a session of its own: through PgBouncer's transaction pooling it
        # would not hold, so an operator may point it at PostgreSQL directly.
        return await asyncpg.connect(settings.listen_database.asyncpg_dsn, **options)

    return PostgresDatabase(pool, settings.db_pool_timeout, observer, connect_listener)


async def _release(pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
    """Give a connection back; one that broke is closed by the pool, and that is no error.

    (Its failure was already met, and answered, by the statement that used it.)
    """
    try:
        await pool.release(conn)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError):
        logger.debug("a broken connection was closed on release", exc_info=True)


async def _rollback_only(_conn: asyncpg.Connection) -> None:
    """asyncpg rolls back an open transaction itself before calling this; nothing else to do."""


def _rowcount(status: str) -> int:
    """asyncpg's command tag ("DELETE 1", "INSERT 0 1") -> rows affected."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


@contextmanager
def _translated(observer: PoolObserver) -> Iterator[None]:
    """asyncpg's and the network's errors -> the storage errors the callers know."""
    try:
        yield
    except (StorageUnavailable, DuplicateKey, UnstorableDocument):
        raise
    except asyncpg.PostgresError as exc:
        sqlstate = getattr(exc, "sqlstate", None) or ""
        if sqlstate == _UNIQUE_VIOLATION:
            raise DuplicateKey(_first_line(exc)) from exc
        if sqlstate in _UNSTORABLE:
            raise UnstorableDocument(_first_line(exc)) from exc
        cause = _UNAVAILABLE.get(sqlstate)
        if cause is None and sqlstate.startswith("08"):
            cause = "disconnect"
        observer.error(cause or snake_case(type(exc).__name__))
        if cause is None:
            raise
        raise StorageUnavailable(_first_line(exc), cause) from exc
    except TimeoutError as exc:  # asyncpg's command_timeout: it cancelled the query
        observer.error("statement_timeout")
        raise StorageUnavailable(
            "the database did not answer in time", "statement_timeout"
        ) from exc
    except (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError) as exc:
        # asyncpg's own errors here all come of a connection lost mid-operation.
        dropped = not isinstance(exc, OSError) or isinstance(exc, ConnectionResetError)
        cause = "disconnect" if dropped or isinstance(exc, BrokenPipeError) else "connection_failed"
        observer.error(cause)
        raise StorageUnavailable(_first_line(exc), cause) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
