"""A throwaway PostgreSQL cluster that the soak can restart, stop and start under load.

Started like the tests' own: pytest-postgresql's executor with the machine's pg_ctl run
through tests/support/pg_ctl_as_postgres (so it works as root). The faults call that same
wrapper, as an operator would call pg_ctl.
"""

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy.engine import URL

from tests.support.servers import PICUS, REPO, free_port

PG_CTL = REPO / "tests" / "support" / "pg_ctl_as_postgres"
HOST = "127.0.0.1"
USER = "postgres"
DBNAME = "picus"
PG_CTL_SECONDS = 60


class Postgres:
    """One PostgreSQL server holding one migrated database, `picus`."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="picus-soak-pg-")
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

    @property
    def database_url(self) -> str:
        """DATABASE_URL for a `picus` process."""
        url = URL.create("postgresql+psycopg2", USER, None, HOST, self.port, DBNAME)
        return url.render_as_string(hide_password=False)

    def start(self) -> None:
        """initdb, start, create the database, and run `picus db upgrade` on it."""
        self._executor.start()
        DatabaseJanitor(user=USER, host=HOST, port=self.port, dbname=DBNAME).init()
        env = {**os.environ, "DATABASE_URL": self.database_url}
        subprocess.run(  # noqa: S603 - our own commands, no shell
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

    def stop(self) -> None:
        """Stop the server (if it runs) and remove its data directory."""
        try:
            if self._executor.running():
                self._executor.stop()
        finally:
            if self.logfile.exists():
                shutil.copyfile(self.logfile, self.workdir / self.logfile.name)
            self._tmp.cleanup()

    def _pg_ctl(self, *args: str) -> None:
        self._run([str(PG_CTL), *args[:1], "-D", str(self.datadir), *args[1:]])

    def _run(self, command: list[str], env: dict[str, str] | None = None) -> None:
        # Never a pipe: the server pg_ctl starts would inherit it, and run() would wait for it.
        with (self.workdir / "pg_ctl.log").open("ab") as output:
            subprocess.run(  # noqa: S603 - our own commands, no shell
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                check=True,
                timeout=PG_CTL_SECONDS,
            )
