"""The engine and its pool, configured once from Settings.

Every failure that means "the database is not there right now" (refused or dropped
connection, connect or statement timeout, pool exhausted, SQLite locked) leaves this
package as one exception type, StorageUnavailable, so the HTTP layer can answer 503.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from picus.config import Settings
from picus.errors import StorageUnavailable
from picus.storage.tables import dump_json


def create_engine(settings: Settings) -> Engine:
    """Build the engine for settings.url with bounded connect, statement and pool timeouts."""
    url = settings.url
    options: dict[str, Any] = {
        "json_serializer": dump_json,
        "pool_pre_ping": True,
        # A failing statement's error text never carries a document (into a log line).
        "hide_parameters": True,
        "pool_size": settings.db_pool_size,
        "max_overflow": 0,  # a fixed pool, as on the request path
        "pool_timeout": settings.db_pool_timeout,
    }
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": settings.db_statement_timeout}
        engine = sa.create_engine(url, **options)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    statement_ms = int(settings.db_statement_timeout * 1000)
    options["connect_args"] = {
        "connect_timeout": settings.db_connect_timeout,
        "options": f"-c statement_timeout={statement_ms}",
        "application_name": "picus",
    }
    return sa.create_engine(url, **options)


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """WAL lets readers run beside the one writer; the busy timeout is set by `timeout`.

    `synchronous` stays at its FULL default: an acknowledged write survives a power cut.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@contextmanager
def unavailable_as_storage_error() -> Iterator[None]:
    """Turn SQLAlchemy's many "database not there" errors into StorageUnavailable."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError) as exc:
        raise StorageUnavailable(_first_line(exc), error_cause(exc)) from exc
    except sa.exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise StorageUnavailable(_first_line(exc), "disconnect") from exc
        raise


# PostgreSQL SQLSTATEs worth their own cause (the rest fall back to the exception class).
_SQLSTATE_CAUSES = {
    "57014": "statement_timeout",  # query_canceled: statement_timeout fired
    "40P01": "deadlock",
    "40001": "serialization_failure",
    "55P03": "lock_not_available",
    "53300": "too_many_connections",
}


def error_cause(exc: BaseException) -> str:
    """A short, bounded name for why a SQLAlchemy call failed (a metric label, a log field)."""
    if isinstance(exc, sa.exc.TimeoutError):
        return "pool_timeout"
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return "disconnect"
    original = getattr(exc, "orig", None) or exc
    sqlstate = getattr(original, "pgcode", None)
    if sqlstate in _SQLSTATE_CAUSES:
        return _SQLSTATE_CAUSES[sqlstate]
    if isinstance(original, sqlite3.OperationalError) and "locked" in str(original):
        return "database_locked"
    name = snake_case(type(original).__name__)
    if name == "operational_error" and sqlstate is None and not isinstance(original, sqlite3.Error):
        return "connection_failed"  # the driver's own error: the server was not reached
    return name


def snake_case(name: str) -> str:
    """`OperationalError` -> `operational_error`: an exception class as a label."""
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
