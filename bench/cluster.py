"""A throwaway PostgreSQL cluster for one run, started exactly as the tests start theirs.

pytest-postgresql's executor runs the machine's pg_ctl through
tests/support/pg_ctl_as_postgres (so it also works as root) in a temporary directory;
`stop()` stops the server and removes the directory. Picus's database is `picus`; the
reference peer gets a second database in the same cluster (its table is also `items`), so
both services share one PostgreSQL and its limits, and neither touches the other's rows.
"""

import os
import subprocess
import tempfile
from pathlib import Path

import sqlalchemy as sa
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy.engine import URL, Engine

from tests.support.servers import PICUS, REPO, free_port

PG_CTL = REPO / "tests" / "support" / "pg_ctl_as_postgres"
DBNAME = "picus"
USER = "postgres"
HOST = "127.0.0.1"


class Database:
    """One database of the cluster: its URL, and an engine for the runner's own SQL."""

    def __init__(self, port: int, name: str) -> None:
        self.name = name
        self.url = URL.create("postgresql+psycopg2", USER, None, HOST, port, name)
        self._engine: Engine | None = None

    @property
    def database_url(self) -> str:
        """DATABASE_URL for a server process (`postgresql+psycopg2://...`)."""
        return self.url.render_as_string(hide_password=False)

    def engine(self) -> Engine:
        """An engine for the runner's own SQL (seeding, counting)."""
        if self._engine is None:
            self._engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        return self._engine

    def scalar(self, sql: str, **params: object) -> int:
        """Run one statement and return its single integer result."""
        with self.engine().connect() as conn:
            return int(conn.execute(sa.text(sql), params).scalar_one())

    def execute(self, sql: str, **params: object) -> None:
        """Run one statement."""
        with self.engine().connect() as conn:
            conn.execute(sa.text(sql), params)

    def dispose(self) -> None:
        """Close the engine's connections."""
        if self._engine is not None:
            self._engine.dispose()


class Cluster:
    """One PostgreSQL server with Picus's migrated database, and any others made here."""

    def __init__(self) -> None:
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="picus-bench-pg-")
        base = Path(self._tmp.name)
        self._executor = PostgreSQLExecutor(
            executable=str(PG_CTL),
            host=HOST,
            port=self.port,
            datadir=str(base / "data"),
            unixsocketdir=str(base),
            logfile=str(base / "postgresql.log"),
            startparams="-w",
            dbname=DBNAME,
            user=USER,
        )
        self.picus = Database(self.port, DBNAME)
        self._databases = [self.picus]

    @property
    def url(self) -> URL:
        """The SQLAlchemy URL of Picus's database."""
        return self.picus.url

    @property
    def database_url(self) -> str:
        """DATABASE_URL for a `picus` process."""
        return self.picus.database_url

    @property
    def postmaster_pid(self) -> int:
        """The server's root process (the first line of postmaster.pid)."""
        pid_file = Path(self._executor.datadir) / "postmaster.pid"
        return int(pid_file.read_text().split()[0])

    def pgbench_args(self) -> list[str]:
        """Connection arguments for pgbench (same TCP path as the app's)."""
        return ["-h", HOST, "-p", str(self.port), "-U", USER, DBNAME]

    def start(self, env: dict[str, str]) -> None:
        """Initialise and start the server, create the database, run `picus db upgrade`.

        `env` is the server's extra environment, so the schema matches the code served.
        """
        self._executor.start()
        DatabaseJanitor(
            user=USER, host=HOST, port=self.port, dbname=DBNAME, version=self._executor.version
        ).init()
        env = {**os.environ, **env, "DATABASE_URL": self.database_url}
        subprocess.run([str(PICUS), "db", "upgrade"], env=env, cwd=REPO, check=True, timeout=60)  # noqa: S603 (fixed tool, arguments built here)

    def create_database(self, name: str) -> Database:
        """A second, empty database in the same cluster (its schema is the caller's)."""
        self.picus.execute(f'CREATE DATABASE "{name}"')
        database = Database(self.port, name)
        self._databases.append(database)
        return database

    def engine(self) -> Engine:
        """An engine on Picus's database."""
        return self.picus.engine()

    def scalar(self, sql: str, **params: object) -> int:
        """Run one statement on Picus's database and return its single integer result."""
        return self.picus.scalar(sql, **params)

    def execute(self, sql: str, **params: object) -> None:
        """Run one statement on Picus's database."""
        self.picus.execute(sql, **params)

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        for database in self._databases:
            database.dispose()
        try:
            if self._executor.running():
                self._executor.stop()
        finally:
            self._tmp.cleanup()
