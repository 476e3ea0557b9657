"""SIGTERM while a request waits on the database: the request completes, the server exits 0."""

import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx
import psycopg2
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from devtools.servers import LiveServer
from tests.ops.support import log_lines

WAIT_S = 20.0


def _libpq_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _wait_for(condition_sql: str, dsn: str) -> None:
    """Poll PostgreSQL until `condition_sql` is true (bounded by WAIT_S)."""
    deadline = time.monotonic() + WAIT_S
    conn = psycopg2.connect(dsn)
    conn.autocommit = True  # each poll its own transaction, so a fresh statistics snapshot
    with closing(conn), conn.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(condition_sql)
            row = cursor.fetchone()
            if row is not None and row[0]:
                return
            time.sleep(0.05)
    raise TimeoutError(condition_sql)


WAITING_ON_LOCK = (
    "SELECT count(*) = 1 FROM pg_stat_activity "
    "WHERE application_name = 'picus' AND wait_event_type = 'Lock'"
)


def _serves_no_new_request(url: str) -> bool:
    """True once a new request goes unserved (refused, or left in the backlog unaccepted).

    One worker closes its socket at once; with several, uvicorn's parent keeps the socket
    open until its workers have finished, but no worker accepts from it any more.
    """
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/healthz", timeout=1.0)
        except httpx.TransportError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_a_slow_request_finish_then_exits_0(
    pg_env: dict[str, str], pg_url: URL, tmp_path: Path, workers: int
) -> None:
    env = {**pg_env, "PICUS_DB_STATEMENT_TIMEOUT": "60", "PICUS_GRACEFUL_TIMEOUT": "30"}
    log = tmp_path / "server.log"
    dsn = _libpq_dsn(pg_url)
    server = LiveServer(env, workers=workers, log_path=log).start()
    locker = psycopg2.connect(dsn)
    try:
        with locker.cursor() as cursor:  # a transaction holds the table: the INSERT waits
            cursor.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
        with ThreadPoolExecutor(max_workers=1) as pool:
            slow: Future[httpx.Response] = pool.submit(
                httpx.post,
                f"{server.url}/picus/put",
                json={"slow": True},
                headers={"X-Request-ID": "in-flight-1"},
                timeout=WAIT_S * 2,
            )
            _wait_for(WAITING_ON_LOCK, dsn)
            assert server.process is not None
            server.process.terminate()  # SIGTERM, by PID
            assert _serves_no_new_request(server.url), "still serving after SIGTERM"
            assert not slow.done()
            locker.commit()  # the slow statement goes on and completes
            response = slow.result(timeout=WAIT_S)
        assert response.status_code == 201
        assert response.headers["X-Request-ID"] == "in-flight-1"
        assert server.process.wait(timeout=WAIT_S) == 0
    finally:
        locker.close()
        server.stop()

    lines = log_lines(log)
    assert [x["status"] for x in lines if x.get("request_id") == "in-flight-1"] == [201]
    stopped = [x for x in lines if x["message"].startswith("worker stopped")]
    assert len(stopped) == workers  # each worker closed its pool after its requests
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM items")).scalar_one()
        assert count == 1
    finally:
        engine.dispose()


def test_the_grace_period_bounds_the_wait(
    pg_env: dict[str, str], pg_url: URL, tmp_path: Path
) -> None:
    env = {**pg_env, "PICUS_DB_STATEMENT_TIMEOUT": "3", "PICUS_GRACEFUL_TIMEOUT": "1"}
    log = tmp_path / "server.log"
    dsn = _libpq_dsn(pg_url)
    server = LiveServer(env, log_path=log).start()
    locker = psycopg2.connect(dsn)
    try:
        with locker.cursor() as cursor:
            cursor.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
        with ThreadPoolExecutor(max_workers=1) as pool:
            slow = pool.submit(
                httpx.post, f"{server.url}/picus/put", json={"too": "slow"}, timeout=WAIT_S
            )
            _wait_for(WAITING_ON_LOCK, dsn)
            assert server.process is not None
            stopped_at = time.monotonic()
            server.process.terminate()
            status = server.process.wait(timeout=WAIT_S)
            elapsed = time.monotonic() - stopped_at
            cut_off = slow.result(timeout=WAIT_S)
    finally:
        locker.close()
        server.stop()
    assert status == 0
    assert cut_off.status_code == 500  # uvicorn's answer to a request it had to cancel
    # The grace period (1 s), then the cancelled request's thread ends at the statement
    # timeout (3 s): well before the lock would have let it finish.
    assert elapsed < 8, elapsed
    messages = [line["message"] for line in log_lines(log)]
    assert any("timeout graceful shutdown exceeded" in message for message in messages)
