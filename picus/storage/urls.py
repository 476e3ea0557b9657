"""DATABASE_URL as platforms hand it out, and the driver Picus uses for each job.

Platforms write `postgres://` (Heroku, Render, Fly) or `postgresql://` (most others);
SQLAlchemy people write `postgresql+psycopg2://`. Picus ships two PostgreSQL drivers and
picks one per job itself: asyncpg on the request path, psycopg2 for Alembic and the CLI.
So the URL names a database, and a driver in it is accepted only if Picus ships it.
"""

from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url

# The drivers an operator may name in the URL; each maps to what Picus runs.
POSTGRESQL_DRIVERS = frozenset({"", "psycopg2", "asyncpg"})
SQLITE_DRIVERS = frozenset({"", "pysqlite"})
_POSTGRESQL_SCHEMES = frozenset({"postgres", "postgresql"})


class DatabaseURLError(ValueError):
    """The URL names a database or driver Picus cannot use; the message says which."""


@dataclass(frozen=True)
class DatabaseTarget:
    """One database, addressed for each driver Picus uses on it."""

    url: URL
    """The URL for SQLAlchemy's synchronous engine (psycopg2 or pysqlite)."""

    @property
    def backend(self) -> str:
        """ "postgresql" or "sqlite"."""
        return self.url.get_backend_name()

    @property
    def asyncpg_dsn(self) -> str:
        """The libpq-style URL asyncpg connects with (PostgreSQL only), password included."""
        assert self.backend == "postgresql", "asyncpg serves PostgreSQL only"
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)


def parse_database_url(text: str) -> DatabaseTarget:
    """Read a DATABASE_URL; raise DatabaseURLError for an unknown database or driver."""
    scheme, separator, _rest = text.partition("://")
    if not separator:
        raise DatabaseURLError("not a URL (expected e.g. postgresql://user@host/db)")
    backend, _plus, driver = scheme.lower().partition("+")
    if backend in _POSTGRESQL_SCHEMES:
        if driver not in POSTGRESQL_DRIVERS:
            raise DatabaseURLError(_unknown_driver(driver, "postgresql", POSTGRESQL_DRIVERS))
        sync_scheme = "postgresql+psycopg2"
    elif backend == "sqlite":
        if driver not in SQLITE_DRIVERS:
            raise DatabaseURLError(_unknown_driver(driver, "sqlite", SQLITE_DRIVERS))
        sync_scheme = "sqlite"
    else:
        raise DatabaseURLError(
            f"unsupported database {backend!r} (Picus stores documents in postgresql or sqlite)"
        )
    try:
        url = make_url(sync_scheme + text[len(scheme) :])
    except Exception as exc:  # ArgumentError and ValueError (a bad port); keep their words
        raise DatabaseURLError(f"not a usable database URL ({exc})") from None
    return DatabaseTarget(url)


def _unknown_driver(driver: str, backend: str, known: frozenset[str]) -> str:
    names = ", ".join(f"{backend}+{name}" for name in sorted(known) if name)
    return (
        f"unsupported driver {driver!r}: use {backend}:// (Picus chooses the driver) "
        f"or one of {names}"
    )
