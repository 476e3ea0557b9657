"""deploy/pgbouncer: the PgBouncer image Compose builds and Kubernetes runs, without Docker.

Its entrypoint script runs here for real, in front of the real PgBouncer binary the image
installs (Debian 12's 1.18), on the shipped ini with SCRAM authentication: the auth file
it writes from the password secret must let the right password in and keep a wrong one out.
"""

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import psycopg2
import pytest
import yaml
from sqlalchemy.engine import URL

from devtools.compose import resolved_config
from devtools.paths import REPO
from devtools.pgbouncer import PgBouncer, pgbouncer_binary, shipped_settings

IMAGE_DIR = REPO / "deploy" / "pgbouncer"
ENTRYPOINT = IMAGE_DIR / "entrypoint.sh"
PASSWORD = 'pa"ss word\\$x'  # a double quote, a space, a backslash: all survive


def _instructions() -> list[tuple[str, str]]:
    text = (IMAGE_DIR / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [
        (keyword.upper(), arguments.strip())
        for keyword, _, arguments in (line.strip().partition(" ") for line in joined.splitlines())
        if keyword
    ]


def test_the_image_installs_the_pgbouncer_the_tests_run() -> None:
    instructions = _instructions()
    (base,) = [args for keyword, args in instructions if keyword == "FROM"]
    assert base.startswith("debian:bookworm-slim@sha256:")  # Debian 12, as on this machine
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert "'pgbouncer=1.18.*'" in runs
    binary = pgbouncer_binary()
    assert binary is not None
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("PgBouncer 1.18.")


def test_the_image_runs_the_shipped_ini_as_a_numeric_user_through_its_entrypoint() -> None:
    instructions = _instructions()
    copies = [args.split()[-2:] for keyword, args in instructions if keyword == "COPY"]
    assert ["pgbouncer.ini", "/etc/pgbouncer/pgbouncer.ini"] in copies
    assert ["entrypoint.sh", "/usr/local/bin/picus-pgbouncer"] in copies
    (user,) = [args for keyword, args in instructions if keyword == "USER"]
    uid, _, gid = user.partition(":")
    assert int(uid) > 0
    assert int(gid) > 0
    (entrypoint,) = [args for keyword, args in instructions if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["/usr/local/bin/picus-pgbouncer"]  # exec form
    (cmd,) = [args for keyword, args in instructions if keyword == "CMD"]
    assert json.loads(cmd) == ["/etc/pgbouncer/pgbouncer.ini"]


def test_the_auth_file_lives_where_the_ini_and_compose_expect_it() -> None:
    auth_file = shipped_settings()["pgbouncer"]["auth_file"]
    script = ENTRYPOINT.read_text(encoding="utf-8")
    assert f"PGBOUNCER_AUTH_FILE:-{auth_file}" in script
    tmpfs = resolved_config()["services"]["pgbouncer"]["tmpfs"]
    assert any(mount.startswith(f"{Path(auth_file).parent}:") for mount in tmpfs)
    assert "PGBOUNCER_PASSWORD_FILE:-/run/secrets/db_password" in script
    raw = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    assert raw["services"]["pgbouncer"]["secrets"] == ["db_password"]


@pytest.fixture
def bouncer_via_entrypoint(pgbouncer_installed: None, pg_url: URL) -> PgBouncer:
    """PgBouncer on the shipped ini (SCRAM), started by the image's entrypoint script."""
    assert pg_url.host is not None
    assert pg_url.port is not None
    bouncer = PgBouncer(pg_url.host, pg_url.port, auth_type="scram-sha-256", users={})
    generated = bouncer.workdir / "run" / "userlist.txt"
    secret = bouncer.workdir / "db_password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")  # as a secret file often ends
    bouncer.overrides["auth_file"] = str(generated)
    bouncer.command_prefix = [str(ENTRYPOINT)]
    bouncer.env = {
        **os.environ,
        "PGBOUNCER_USER": pg_url.username or "postgres",
        "PGBOUNCER_PASSWORD_FILE": str(secret),
        "PGBOUNCER_AUTH_FILE": str(generated),
        "PGBOUNCER_BINARY": str(pgbouncer_binary()),
    }
    return bouncer


def _connect(bouncer: PgBouncer, pg_url: URL, password: str) -> None:
    with (
        psycopg2.connect(
            host="127.0.0.1",
            port=bouncer.port,
            user=pg_url.username,
            password=password,
            dbname=pg_url.database,
            connect_timeout=5,
        ) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    conn.close()


def test_the_entrypoint_writes_an_auth_file_that_lets_only_the_password_in(
    bouncer_via_entrypoint: PgBouncer, pg_url: URL
) -> None:
    with bouncer_via_entrypoint as bouncer:
        generated = Path(bouncer.overrides["auth_file"])
        assert stat.S_IMODE(generated.stat().st_mode) == 0o600
        user = pg_url.username or "postgres"
        assert generated.read_text(encoding="utf-8") == f'"{user}" "pa""ss word\\$x"\n'
        _connect(bouncer, pg_url, PASSWORD)
        with pytest.raises(psycopg2.OperationalError, match="authentication failed"):
            _connect(bouncer, pg_url, "wrong")


def test_the_entrypoint_refuses_to_start_without_a_password(
    bouncer_via_entrypoint: PgBouncer,
) -> None:
    Path(bouncer_via_entrypoint.env["PGBOUNCER_PASSWORD_FILE"]).write_text(  # type: ignore[index]
        "\n", encoding="utf-8"
    )
    with pytest.raises(RuntimeError, match="is empty"):
        bouncer_via_entrypoint.start()
    bouncer_via_entrypoint.stop()
