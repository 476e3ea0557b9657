"""The `picus` command as an operator runs it."""

import subprocess
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from devtools.paths import PICUS
from devtools.servers import LiveServer, free_port


def _picus(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PICUS), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]])
def test_a_bad_setting_stops_with_one_line_and_status_2(command: list[str], tmp_path: Path) -> None:
    result = _picus(*command, env={"PICUS_MAX_BODY_BYTES": "lots", "PATH": ""}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "PICUS_MAX_BODY_BYTES" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+asyncpg"])
def test_the_readmes_url_forms_migrate_and_serve(
    pg_env: dict[str, str], tmp_path: Path, scheme: str
) -> None:
    """`postgresql://` crashed start-up (SQLAlchemy maps it to psycopg 3, not shipped)."""
    url = scheme + "://" + pg_env["DATABASE_URL"].split("://", 1)[1]
    env = {"DATABASE_URL": url, "PATH": ""}
    upgraded = _picus("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    with LiveServer(env, log_path=tmp_path / "server.log") as server:
        assert httpx.get(f"{server.url}/readyz").status_code == 200
        created = httpx.post(f"{server.url}/picus/put", json={"url": scheme})
        assert created.status_code == 201


def test_an_unshipped_driver_stops_start_up_with_one_line_and_status_2(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/picus", "PATH": ""}
    for command in (["serve"], ["db", "upgrade"]):
        result = _picus(*command, env=env, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1
        assert "psycopg" in result.stderr
        assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    database = tmp_path / "fresh.sqlite3"
    env = {"PICUS_SQLITE_PATH": str(database)}
    assert _picus("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    assert _picus("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    engine = sa.create_engine(f"sqlite:///{database}")
    assert {"items", "alembic_version"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_serve_on_the_embedded_default_creates_the_schema_first(tmp_path: Path) -> None:
    env = {"PICUS_SQLITE_PATH": str(tmp_path / "var" / "picus.sqlite3")}
    with LiveServer(env, log_path=tmp_path / "server.log") as server:
        created = httpx.post(f"{server.url}/picus/put", json={"embedded": True})
        assert created.status_code == 201
        assert httpx.get(f"{server.url}/picus/list").json()[0]["data"] == {"embedded": True}


def test_serve_starts_while_the_database_is_down_and_says_so(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"postgresql://picus@127.0.0.1:{free_port()}/picus"}
    with LiveServer(env, log_path=tmp_path / "server.log") as server:
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 503
        assert ready.headers["retry-after"]
