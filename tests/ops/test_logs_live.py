"""The log a real `picus serve` writes: JSON lines, request ids, no payloads, one traceback."""

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from devtools.servers import LiveServer
from picus import __version__
from tests.ops.support import access_lines, log_lines

GET_ONE = "get_item"


def _lines_of(path: Path, request_id: str) -> list[dict[str, object]]:
    return [line for line in log_lines(path) if line.get("request_id") == request_id]


def test_one_access_line_per_request_with_every_field(
    live_server: LiveServer, tmp_path: Path
) -> None:
    created = httpx.post(f"{live_server.url}/picus/put", json={"k": "v"})
    item_id = created.json()["id"]
    headers = {"X-Request-ID": "fields-check-1", "X-Forwarded-For": "203.0.113.7"}
    got = httpx.get(f"{live_server.url}/picus/get/{item_id}", headers=headers)
    assert got.status_code == 200
    live_server.stop()

    [line] = [
        x for x in access_lines(tmp_path / "server.log") if x["request_id"] == "fields-check-1"
    ]
    assert datetime.fromisoformat(str(line["time"])).utcoffset() is not None
    assert line["level"] == "info"
    assert line["method"] == "GET"
    assert line["path"] == "/picus/get/{id}"  # the template, not the raw id
    assert line["operation_id"] == GET_ONE
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert 0 < line["duration_ms"] < 10_000
    assert line["client"] == "203.0.113.7"  # as forwarded by the proxy in front
    assert isinstance(line["process"], int)


def test_start_up_says_version_bind_workers_and_masks_the_password(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    password = f"pw-{uuid.uuid4().hex}"  # the test cluster trusts loopback: any password works
    url = sa.make_url(pg_env["DATABASE_URL"]).set(password=password)
    env = {"DATABASE_URL": url.render_as_string(hide_password=False)}
    log = tmp_path / "server.log"
    with LiveServer(env, log_path=log) as server:
        assert httpx.get(f"{server.url}/readyz").status_code == 200
    assert password not in log.read_text()
    starts = [line for line in log_lines(log) if line.get("bind")]
    assert len(starts) == 1
    [start] = starts
    assert start["version"] == __version__
    assert start["bind"] == f"127.0.0.1:{server.port}"
    assert start["workers"] == 1
    assert start["database"] == url.render_as_string(hide_password=True)
    assert "***" in str(start["database"])


def test_payloads_and_other_headers_are_never_logged(
    live_server: LiveServer, tmp_path: Path
) -> None:
    marker = f"secret-{uuid.uuid4().hex}"
    url = live_server.url
    headers = {"X-Api-Secret": marker, "Content-Type": "application/json"}
    assert httpx.post(f"{url}/picus/put", json={"note": marker}, headers=headers).status_code == 201
    bad = httpx.post(f"{url}/picus/put", content=f'{{"note": "{marker}"', headers=headers)
    assert bad.status_code == 400
    assert httpx.get(f"{url}/picus/list", params={"limit": marker}).status_code == 400
    live_server.stop()
    text = (tmp_path / "server.log").read_text()
    assert marker not in text
    assert len(access_lines(tmp_path / "server.log")) >= 3


@pytest.fixture
def unmigrated_env(pg_url: URL) -> Iterator[dict[str, str]]:
    """A database without Picus's tables: any item query fails in an unexpected way."""
    name = f"picus_unmigrated_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield {"DATABASE_URL": pg_url.set(database=name).render_as_string(hide_password=False)}
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_an_unexpected_error_is_logged_once_with_its_trace_and_never_sent(
    unmigrated_env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    marker = f"secret-{uuid.uuid4().hex}"
    with LiveServer(unmigrated_env, log_path=log) as server:
        response = httpx.get(f"{server.url}/picus/get/1", headers={"X-Request-ID": "boom-1"})
        failed_insert = httpx.post(f"{server.url}/picus/put", json={"note": marker})
    assert failed_insert.status_code == 500
    assert marker not in log.read_text()  # the failing INSERT's parameters are not logged
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["request_id"] == "boom-1"
    for leak in ("Traceback", "UndefinedTable", "items", 'File "'):
        assert leak not in response.text

    traced = [line for line in log_lines(log) if "exception" in line]
    assert len(traced) == 2, traced  # one per failed request
    # One line holds a request's whole trace (chained exceptions included).
    assert sum("Traceback" in line for line in log.read_text().splitlines()) == 2
    [error] = [line for line in traced if line.get("request_id") == "boom-1"]
    assert error["request_id"] == "boom-1"
    assert error["level"] == "error"
    assert "UndefinedTable" in str(error["exception"])
    # Every line logged while handling the request carries its id; the access line too.
    assert [line["status"] for line in _lines_of(log, "boom-1") if "status" in line] == [500]
