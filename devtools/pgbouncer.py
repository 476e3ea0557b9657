"""A real PgBouncer on a loopback port, run on the shipped deploy/pgbouncer/pgbouncer.ini.

The file is used as Compose and Kubernetes use it, with only what a loopback test must
change: the database's address, the listening address and port, the auth file, and where
the log and pid file go. PgBouncer comes from Debian (`apt-get install pgbouncer`, 1.18
on Debian 12; tools/system-packages installs it). It refuses to run as root, so as root it
runs as the `postgres` user, in a directory handed to that user. It is stopped by its PID.
"""

import configparser
import io
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from devtools.paths import REPO
from devtools.processes import Started, stop_process, wait_until_listening
from devtools.servers import free_port

SHIPPED_INI = REPO / "deploy" / "pgbouncer" / "pgbouncer.ini"
RUN_AS = "postgres"  # the user Debian's PgBouncer (and PostgreSQL) run as
# The settings a loopback test changes; every other one is the shipped file's.
LOOPBACK_KEYS = frozenset(
    {"listen_addr", "listen_port", "unix_socket_dir", "auth_type", "auth_file", "logfile"}
    | {"pidfile"}
)


def pgbouncer_binary() -> str | None:
    """The pgbouncer executable (Debian puts it in /usr/sbin, which may not be on PATH)."""
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")


def shipped_settings(path: Path = SHIPPED_INI) -> dict[str, dict[str, str]]:
    """The shipped file as {section: {key: value}} (PgBouncer's own ini syntax)."""
    parser = configparser.ConfigParser(
        interpolation=None, comment_prefixes=(";", "#"), empty_lines_in_values=False
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(path.read_text(encoding="utf-8"))
    return {section: dict(parser.items(section)) for section in parser.sections()}


def render(
    database_host: str,
    database_port: int,
    listen_port: int,
    workdir: Path,
    *,
    auth_type: str = "trust",
    overrides: Mapping[str, str] | None = None,
) -> str:
    """The shipped ini with the loopback changes (and any `overrides` of [pgbouncer])."""
    shipped = shipped_settings()
    databases = {
        name: _with_address(definition, database_host, database_port)
        for name, definition in shipped["databases"].items()
    }
    settings = dict(shipped["pgbouncer"])
    settings.update(
        listen_addr="127.0.0.1",
        listen_port=str(listen_port),
        unix_socket_dir="",
        auth_type=auth_type,
        auth_file=str(workdir / "userlist.txt"),
        logfile=str(workdir / "pgbouncer.log"),
        pidfile=str(workdir / "pgbouncer.pid"),
    )
    settings.update(overrides or {})
    out = io.StringIO()
    for section, values in (("databases", databases), ("pgbouncer", settings)):
        out.write(f"[{section}]\n")
        out.writelines(f"{key} = {value}\n" for key, value in values.items())
        out.write("\n")
    return out.getvalue()


def _with_address(definition: str, host: str, port: int) -> str:
    """`host=db port=5432 dbname=picus` with another host and port."""
    pairs = dict(word.split("=", 1) for word in definition.split())
    if set(pairs) - {"host", "port", "dbname"}:
        raise ValueError(f"unexpected database options in the shipped file: {definition}")
    pairs.update(host=host, port=str(port))
    return " ".join(f"{key}={value}" for key, value in pairs.items())


class PgBouncer(Started):
    """PgBouncer on 127.0.0.1 in front of a PostgreSQL; a context manager."""

    def __init__(
        self,
        database_host: str,
        database_port: int,
        *,
        users: Mapping[str, str] | None = None,
        auth_type: str = "trust",
        overrides: Mapping[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        """`users`: name -> password for the auth file (PgBouncer's userlist.txt)."""
        self.port = port or free_port()
        self.database_host = database_host
        self.database_port = database_port
        self.users = dict(users or {"postgres": ""})
        self.auth_type = auth_type
        self.overrides = dict(overrides or {})
        self.workdir = Path(tempfile.mkdtemp(prefix="picus-pgbouncer-"))
        self.config = self.workdir / "pgbouncer.ini"
        self.log = self.workdir / "pgbouncer.log"
        self.stderr_path = self.workdir / "stderr.log"
        self.process: subprocess.Popen[bytes] | None = None
        # Set by a test that runs PgBouncer through the image's entrypoint: the command
        # (given the ini file as its argument) and its environment.
        self.command_prefix: list[str] = []
        self.env: dict[str, str] | None = None

    def url(self, user: str = "postgres", database: str = "picus") -> str:
        """A DATABASE_URL through PgBouncer (no password: the caller adds one if needed)."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def write_files(self) -> None:
        """The rendered ini and the auth file, readable by the user PgBouncer runs as."""
        self.config.write_text(
            render(
                self.database_host,
                self.database_port,
                self.port,
                self.workdir,
                auth_type=self.auth_type,
                overrides=self.overrides,
            ),
            encoding="utf-8",
        )
        (self.workdir / "userlist.txt").write_text(
            "".join(f'"{user}" "{password}"\n' for user, password in self.users.items()),
            encoding="utf-8",
        )
        if os.geteuid() == 0:
            account = pwd.getpwnam(RUN_AS)
            for path in (self.workdir, *self.workdir.iterdir()):
                os.chown(path, account.pw_uid, account.pw_gid)

    def start(self, timeout: float = 10.0) -> Self:
        """Start PgBouncer in the foreground and wait until it listens."""
        binary = pgbouncer_binary()
        if binary is None:
            raise FileNotFoundError("pgbouncer is not installed (apt-get install pgbouncer)")
        self.write_files()
        as_root = os.geteuid() == 0  # PgBouncer refuses to run as root
        # Through the image's entrypoint (which then runs PGBOUNCER_BINARY), or directly.
        command = [*self.command_prefix] if self.command_prefix else [binary]
        with self.stderr_path.open("ab") as stderr:  # PgBouncer's own log is self.log
            self.process = subprocess.Popen(
                [*command, str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                cwd=self.workdir,
                env=self.env,
                start_new_session=True,
                user=RUN_AS if as_root else None,
                group=RUN_AS if as_root else None,
                extra_groups=[] if as_root else None,
            )
        if wait_until_listening(
            self.process,
            self.port,
            timeout,
            lambda: f"pgbouncer exited: {self.log_text()}{self.stderr_text()}",
        ):
            return self
        self.stop()
        raise TimeoutError(f"pgbouncer did not listen on port {self.port} within {timeout} s")

    def log_text(self) -> str:
        """PgBouncer's log so far (for failure messages)."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def stderr_text(self) -> str:
        """What PgBouncer (or the entrypoint before it) wrote to stderr."""
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (immediate shutdown) by PID; SIGKILL if it hangs. The files are removed."""
        try:
            if self.process is not None:
                stop_process(self.process, timeout)
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
