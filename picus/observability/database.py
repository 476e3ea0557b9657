"""Database metrics from SQLAlchemy's own events: pool gauges and driver errors by cause.

Storage stays free of HTTP and of metrics: everything here hangs off the engine's events,
and the 503 cause is read from the exception chain storage already keeps (`raise ... from`).
"""

import logging
import sqlite3

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool

from picus.observability import metrics

logger = logging.getLogger("picus.database")

# PostgreSQL SQLSTATEs worth their own cause (the rest fall back to the exception class).
_SQLSTATE_CAUSES = {
    "57014": "statement_timeout",  # query_canceled: statement_timeout fired
    "40P01": "deadlock",
    "40001": "serialization_failure",
    "55P03": "lock_not_available",
    "53300": "too_many_connections",
}


def instrument_engine(engine: Engine) -> None:
    """Keep the pool gauges current and count driver errors, for this engine's lifetime."""
    event.listen(engine, "handle_error", _count_error)
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return  # e.g. SQLite :memory: (one connection per thread): nothing to size
    metrics.DB_POOL_SIZE.set(pool.size())

    def checked_out(
        _dbapi: object, _entry: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        metrics.DB_POOL_CHECKED_OUT.inc()
        metrics.DB_POOL_OVERFLOW.set(max(0, pool.overflow()))

    def checked_in(_dbapi: object, _entry: ConnectionPoolEntry) -> None:
        metrics.DB_POOL_CHECKED_OUT.dec()
        # The event fires before the pool takes the connection back: if its queue is full,
        # the pool closes this connection next and its overflow drops by one.
        closing = pool.checkedin() >= pool.size()
        metrics.DB_POOL_OVERFLOW.set(max(0, pool.overflow() - int(closing)))

    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)


def _count_error(context: ExceptionContext) -> None:
    if context.is_pre_ping:
        return  # a stale pooled connection, replaced before anyone saw it
    if context.is_disconnect:
        cause = "disconnect"
    else:
        cause = error_cause(context.sqlalchemy_exception or context.original_exception)
    metrics.DB_ERRORS.labels(cause).inc()


def error_cause(exc: BaseException) -> str:
    """A short, bounded name for why a database call failed (SQLAlchemy's or the driver's)."""
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
    name = _snake(type(original).__name__)
    if name == "operational_error" and sqlstate is None and not isinstance(original, sqlite3.Error):
        return "connection_failed"  # the driver's own error: the server was not reached
    return name


def record_unavailable(exc: BaseException) -> None:
    """Hook for the 503 handler: count the answer by cause and say why in the log."""
    cause = error_cause(exc.__cause__) if exc.__cause__ is not None else "unknown"
    metrics.UNAVAILABLE.labels(cause).inc()
    logger.warning("database unavailable: %s", exc, extra={"cause": cause})


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))
