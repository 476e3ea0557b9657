"""While the database cannot answer: a quick 503 with Retry-After, and recovery by itself."""

import threading
import time
from collections.abc import Iterator

import psycopg2
import pytest
from pytest_postgresql.executors import PostgreSQLExecutor
from sqlalchemy.engine import URL
from starlette.testclient import TestClient

from devtools.servers import free_port
from picus.app import create_app
from picus.config import load_settings
from tests.api.helpers import assert_problem

QUICK = 5.0  # seconds: "answered within a few seconds"


def _assert_unavailable(client: TestClient, method: str, path: str, **kwargs: object) -> None:
    started = time.monotonic()
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    elapsed = time.monotonic() - started
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1
    assert elapsed < QUICK, f"{method} {path} took {elapsed:.1f} s"


@pytest.fixture
def unreachable_client() -> Iterator[TestClient]:
    """The app pointed at a PostgreSQL port nothing listens on."""
    url = f"postgresql://picus@127.0.0.1:{free_port()}/picus"
    with create_app(load_settings(database_url=url, validate_responses=True)).test_client() as c:
        yield c


def test_every_operation_is_a_quick_503_while_the_database_is_unreachable(
    unreachable_client: TestClient,
) -> None:
    _assert_unavailable(unreachable_client, "GET", "/picus/list")
    _assert_unavailable(unreachable_client, "GET", "/picus/list", params={"limit": 5})
    _assert_unavailable(unreachable_client, "GET", "/picus/get/1")
    _assert_unavailable(unreachable_client, "DELETE", "/picus/1")
    _assert_unavailable(unreachable_client, "POST", "/picus/put", json={"a": 1})
    _assert_unavailable(unreachable_client, "GET", "/readyz")
    assert unreachable_client.get("/healthz").status_code == 200


def test_bad_input_is_still_a_4xx_while_the_database_is_unreachable(
    unreachable_client: TestClient,
) -> None:
    assert_problem(unreachable_client.get("/picus/get/abc"), 400)
    assert_problem(unreachable_client.post("/picus/put", content=b"{", headers=_JSON), 400)


_JSON = {"Content-Type": "application/json"}


def test_an_outage_gives_503_then_the_same_app_recovers_and_nothing_is_lost(
    postgresql_proc: PostgreSQLExecutor, pg_env: dict[str, str]
) -> None:
    app = create_app(load_settings(database_url=pg_env["DATABASE_URL"], validate_responses=True))
    with app.test_client() as client:
        acknowledged = {}
        for n in range(20):
            response = client.post("/picus/put", json={"n": n})
            assert response.status_code == 201
            acknowledged[response.json()["id"]] = {"n": n}

        postgresql_proc.stop()
        try:
            _assert_unavailable(client, "GET", "/picus/list")
            _assert_unavailable(client, "POST", "/picus/put", json={"lost": True})
            _assert_unavailable(client, "GET", "/readyz")
        finally:
            postgresql_proc.start()

        deadline = time.monotonic() + 15
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the app did not recover"
            time.sleep(0.2)
        items = {i["id"]: i["data"] for i in client.get("/picus/list").json()}
        assert items == acknowledged


def test_a_statement_held_up_by_a_lock_times_out_as_503(
    pg_url: URL, pg_env: dict[str, str]
) -> None:
    settings = load_settings(
        database_url=pg_env["DATABASE_URL"], validate_responses=True, db_statement_timeout=1
    )
    with create_app(settings).test_client() as client:
        item_id = client.post("/picus/put", json={"locked": True}).json()["id"]
        locker = psycopg2.connect(
            host=pg_url.host, port=pg_url.port, user=pg_url.username, dbname=pg_url.database
        )
        try:
            with locker.cursor() as cursor:
                cursor.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
                _assert_unavailable(client, "GET", f"/picus/get/{item_id}")
                _assert_unavailable(client, "DELETE", f"/picus/{item_id}")
        finally:
            locker.rollback()
            locker.close()
        assert client.get(f"/picus/get/{item_id}").status_code == 200


def test_an_exhausted_pool_is_a_quick_503_not_a_pile_up(
    pg_url: URL, pg_env: dict[str, str]
) -> None:
    settings = load_settings(
        database_url=pg_env["DATABASE_URL"],
        validate_responses=True,
        db_pool_size=1,
        db_pool_timeout=0.5,
        db_statement_timeout=3,
    )
    with create_app(settings).test_client() as client:
        item_id = client.post("/picus/put", json=1).json()["id"]
        locker = psycopg2.connect(
            host=pg_url.host, port=pg_url.port, user=pg_url.username, dbname=pg_url.database
        )
        try:
            with locker.cursor() as cursor:
                cursor.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
                # A slow request holds the only connection, waiting on the lock...
                slow = threading.Thread(target=client.get, args=(f"/picus/get/{item_id}",))
                slow.start()
                time.sleep(0.5)
                # ...and the next one waits for it no longer than the pool timeout.
                _assert_unavailable(client, "GET", "/picus/list", params={"limit": 1})
        finally:
            locker.rollback()
            locker.close()
        slow.join(10)
        assert client.get("/picus/list", params={"limit": 1}).status_code == 200
