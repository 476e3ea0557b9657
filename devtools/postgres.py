"""A throwaway PostgreSQL cluster for one run (the bench's, the soak's), started exactly as
the tests start theirs.

pytest-postgresql's executor runs the machine's pg_ctl through devtools/pg_ctl_as_postgres
(so it also works as root) in a temporary directory; `stop()` stops the server and removes
the directory. Picus's database is `picus`, migrated by `picus db upgrade`. The bench's
reference peer gets a second database in the same cluster (its table is also `items`), so
both services share one PostgreSQL and its limits, and neither touches the other's rows.
The soak restarts, stops and starts the server under load through the same wrapper, as an
operator would call pg_ctl.
"""

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy.engine import URL, Engine

from devtools.paths import PICUS, REPO
from devtools.servers import free_port

PG_CTL = REPO / "devtools" / "pg_ctl_as_postgres"
DBNAME = "picus"
USER = "postgres"
HOST = "127.0.0.1"
PG_CTL_SECONDS = 60


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

    def __init__(self, workdir: Path | None = None, prefix: str = "picus-pg-") -> None:
        """`workdir` (if given) receives the server's log when it stops, and pg_ctl's
        output from the fault methods."""
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix=prefix)
        base = Path(self._tmp.name)
        self.datadir = base / "data"
        # Written by the postgres user, so inside the directory the wrapper hands to it;
        # copied to `workdir` by stop().
        self.logfile = base / "postgresql.log"
        self.workdir = workdir
        self._executor = PostgreSQLExecutor(
            executable=str(PG_CTL),
            host=HOST,
            port=self.port,
            datadir=str(self.datadir),
            unixsocketdir=str(base),
            logfile=str(self.logfile),
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
        pid_file = self.datadir / "postmaster.pid"
        return int(pid_file.read_text().split()[0])

    def pgbench_args(self) -> list[str]:
        """Connection arguments for pgbench (same TCP path as the app's)."""
        return ["-h", HOST, "-p", str(self.port), "-U", USER, DBNAME]

    def start(self, env: Mapping[str, str] | None = None) -> None:
        """Initialise and start the server, create the database, run `picus db upgrade`.

        `env` is the server's extra environment, so the schema matches the code served.
        """
        self._executor.start()
        DatabaseJanitor(
            user=USER, host=HOST, port=self.port, dbname=DBNAME, version=self._executor.version
        ).init()
        env = {**os.environ, **(env or {}), "DATABASE_URL": self.database_url}
        subprocess.run(
            [str(PICUS), "db", "upgrade"], env=env, cwd=REPO, check=True, timeout=PG_CTL_SECONDS
        )

    def restart_fast(self) -> None:
        """`pg_ctl restart -m fast`: sessions are ended, the server comes back (waits)."""
        self._pg_ctl("restart", "-m", "fast", "-w", "-l", str(self.logfile))

    def stop_immediate(self) -> None:
        """`pg_ctl stop -m immediate`: no shutdown checkpoint; the next start recovers."""
        self._pg_ctl("stop", "-m", "immediate", "-w")

    def start_again(self) -> None:
        """Start the stopped server with the executor's own command line (port, sockets)."""
        self._run(shlex.split(self._executor.command), {**os.environ, **self._executor.envvars})

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
        """Stop the server (if it runs), keep its log in `workdir`, remove its directory."""
        for database in self._databases:
            database.dispose()
        try:
            if self._executor.running():
                self._executor.stop()
        finally:
            if self.workdir is not None and self.logfile.exists():
                shutil.copyfile(self.logfile, self.workdir / self.logfile.name)
            self._tmp.cleanup()

    def _pg_ctl(self, *args: str) -> None:
        self._run([str(PG_CTL), *args[:1], "-D", str(self.datadir), *args[1:]])

    def _run(self, command: list[str], env: dict[str, str] | None = None) -> None:
        if self.workdir is None:
            raise RuntimeError("pg_ctl's output goes to the workdir: give the Cluster one")
        # Never a pipe: the server pg_ctl starts would inherit it, and run() would wait for it.
        with (self.workdir / "pg_ctl.log").open("ab") as output:
            subprocess.run(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                check=True,
                timeout=PG_CTL_SECONDS,
            )
