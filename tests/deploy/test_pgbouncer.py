"""Picus behind a real PgBouncer (Debian's 1.18) running the shipped deploy/pgbouncer/pgbouncer.ini.

The whole API suite also runs through PgBouncer (`make test-pgbouncer`, part of `make test`);
these tests pin down why the shipped settings are what they are, each failing without it:
- transaction pooling breaks asyncpg's named prepared statements, and
  PICUS_DB_STATEMENT_CACHE_SIZE=0 (what the stack sets) fixes it;
- a start-up `options` parameter (how the sync engine sets statement_timeout) is refused,
  which is why `picus db upgrade` talks to PostgreSQL directly;
- while PostgreSQL is gone a request is a quick 503 (query_wait_timeout of a few seconds,
  not 120), and once it is back Picus serves again within seconds (server_login_retry,
  not 15).
"""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg2
import pytest
from sqlalchemy.engine import URL
from starlette.testclient import TestClient

from devtools.pgbouncer import PgBouncer, shipped_settings
from devtools.servers import LiveServer
from picus.app import create_app
from picus.config import load_settings
from tests.api.helpers import assert_problem
from tests.deploy.forwarder import Forwarder
from tests.support.database import empty_database

QUICK = 5.0  # seconds: the contract's "a quick 503" (as in tests/api/test_unavailable.py)
THREADS = 8
ROUNDS = 15


@pytest.fixture
def emptied(pg_url: URL) -> None:
    empty_database(load_settings(database_url=pg_url.render_as_string(hide_password=False)))


def test_the_shipped_configuration_pools_transactions_and_gives_up_quickly() -> None:
    shipped = shipped_settings()
    settings = shipped["pgbouncer"]
    assert settings["pool_mode"] == "transaction"
    assert 0 < float(settings["query_wait_timeout"]) < QUICK
    assert 0 < float(settings["server_connect_timeout"]) < QUICK
    assert 0 < float(settings["server_login_retry"]) <= 2
    assert "options" not in settings.get("ignore_startup_parameters", "")
    assert settings["auth_type"] == "scram-sha-256"
    assert (settings["listen_addr"], settings["listen_port"]) == ("0.0.0.0", "6432")
    assert shipped["databases"] == {"picus": "host=db port=5432 dbname=picus"}


def _hammer(base_url: str) -> list[int]:
    """THREADS clients reading and writing at once; every status they got."""
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base_url, timeout=10.0) as http:
            for n in range(ROUNDS):
                created = http.post("/picus/put", json={"n": n})
                got = http.get("/picus/list", params={"limit": 3})
                with lock:
                    statuses.extend((created.status_code, got.status_code))

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


@pytest.mark.parametrize(("cache_size", "works"), [("100", False), ("0", True)])
def test_prepared_statements_survive_transaction_pooling_only_without_the_named_cache(
    pgbouncer_installed: None,
    pgbouncer: PgBouncer,
    pg_url: URL,
    emptied: None,
    tmp_path: Path,
    cache_size: str,
    works: bool,
) -> None:
    env = {
        "DATABASE_URL": pgbouncer.url(database=pg_url.database or "picus"),
        "PICUS_DB_STATEMENT_CACHE_SIZE": cache_size,
        "PICUS_DB_POOL_SIZE": "4",
    }
    with LiveServer(env, log_path=tmp_path / "server.log") as server:
        statuses = _hammer(server.url)
    log = (tmp_path / "server.log").read_text(encoding="utf-8")
    assert len(statuses) == 2 * THREADS * ROUNDS
    if works:
        assert set(statuses) <= {200, 201}, sorted(set(statuses))
        assert "does not exist" not in log
    else:
        # asyncpg prepared `__asyncpg_stmt_N__` on one server connection and PgBouncer 1.18
        # ran the next transaction on another: a 500 the app could not foresee.
        assert 500 in statuses
        assert "prepared statement" in log


def test_a_start_up_options_parameter_is_refused_so_migrations_go_direct(
    pgbouncer_installed: None, pgbouncer: PgBouncer, pg_url: URL
) -> None:
    with pytest.raises(psycopg2.OperationalError, match="unsupported startup parameter"):
        psycopg2.connect(
            host="127.0.0.1",
            port=pgbouncer.port,
            user=pg_url.username,
            dbname=pg_url.database,
            options="-c statement_timeout=5000",
            connect_timeout=5,
        )


@pytest.fixture
def database_that_comes_and_goes(pg_url: URL) -> Iterator[Forwarder]:
    """A port that forwards to the session PostgreSQL while started; nothing while stopped."""
    assert pg_url.port is not None
    forwarder = Forwarder(pg_url.port).start()
    try:
        yield forwarder
    finally:
        forwarder.stop()


def _quick_503(client: TestClient) -> float:
    started = time.monotonic()
    response = client.get("/picus/list", params={"limit": 1})
    elapsed = time.monotonic() - started
    assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) >= 1
    return elapsed


def test_database_gone_is_a_quick_503_and_back_within_seconds(
    pgbouncer_installed: None, database_that_comes_and_goes: Forwarder, pg_url: URL, emptied: None
) -> None:
    database = database_that_comes_and_goes
    with PgBouncer("127.0.0.1", database.port, users={pg_url.username or "postgres": ""}) as pgb:
        settings = load_settings(
            database_url=pgb.url(database=pg_url.database or "picus"),
            db_statement_cache_size=0,
            validate_responses=True,
        )
        with create_app(settings).test_client() as client:
            assert client.post("/picus/put", json={"before": "outage"}).status_code == 201

            database.stop()
            # The first request waits for a server connection at most query_wait_timeout
            # (PgBouncer's default, 120 s, would leave it to the app's statement timeout);
            # the next ones fail at once while PgBouncer's server logins keep failing.
            for _ in range(3):
                elapsed = _quick_503(client)
                assert elapsed < QUICK, f"503 after {elapsed:.1f} s; see {pgb.log_text()}"

            database.start()
            started = time.monotonic()
            while client.get("/picus/list", params={"limit": 1}).status_code != 200:
                # server_login_retry: PgBouncer tries PostgreSQL again after 1 s, not 15 s.
                assert time.monotonic() - started < QUICK, "not serving again in time"
                time.sleep(0.1)
            items = client.get("/picus/list").json()
            assert [item["data"] for item in items] == [{"before": "outage"}]
