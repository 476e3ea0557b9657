"""Metric values in-process (one worker, prometheus-client's in-memory mode), both backends."""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager

import psycopg2
import pytest
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from devtools.servers import free_port
from picus.app import create_app
from picus.config import Settings, load_settings
from picus.handlers.context import SERVICES_KEY
from tests.ops.support import sample


def value(name: str, **labels: str) -> float:
    """A sample of this process's default registry (0 when the series does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_served_in_prometheus_text(client: TestClient) -> None:
    client.get("/picus/list", params={"limit": 1})
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    labels = {"operation": "list_items", "method": "GET", "status": "200"}
    assert sample(response.text, "picus_http_requests_total", **labels) == value(
        "picus_http_requests_total", **labels
    )
    openmetrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")


def test_routes_off_the_spec_and_unknown_paths_never_label_a_raw_path(client: TestClient) -> None:
    before_health = value(
        "picus_http_requests_total", operation="/healthz", method="GET", status="200"
    )
    before_unmatched = value(
        "picus_http_requests_total", operation="unmatched", method="GET", status="404"
    )
    client.get("/healthz")
    client.get("/no/such/thing/raw-path-marker")
    client.request("BREW", "/healthz")
    after_health = value(
        "picus_http_requests_total", operation="/healthz", method="GET", status="200"
    )
    assert after_health == before_health + 1
    assert (
        value("picus_http_requests_total", operation="unmatched", method="GET", status="404")
        == before_unmatched + 1
    )
    text = client.get("/metrics").text
    assert "raw-path-marker" not in text  # no digits: timestamps in the text hold any
    assert 'method="BREW"' not in text  # unknown methods are one bounded label value
    assert 'method="other"' in text


def test_the_latency_histogram_counts_each_request(client: TestClient) -> None:
    labels = {"operation": "get_item", "method": "GET", "status": "404"}
    before = value("picus_http_request_duration_seconds_count", **labels)
    for item_id in (101, 102, 103):
        assert client.get(f"/picus/get/{item_id}").status_code == 404
    assert value("picus_http_request_duration_seconds_count", **labels) == before + 3
    assert value("picus_http_request_duration_seconds_bucket", le="+Inf", **labels) == before + 3


def test_items_created_and_deleted_are_counted(client: TestClient) -> None:
    created, deleted = value("picus_items_created_total"), value("picus_items_deleted_total")
    ids = [client.post("/picus/put", json={"n": n}).json()["id"] for n in range(3)]
    assert client.delete(f"/picus/{ids[0]}").status_code == 204
    assert client.delete(f"/picus/{ids[0]}").status_code == 404  # nothing deleted
    refused = client.post("/picus/put", content=b"{", headers={"Content-Type": "application/json"})
    assert refused.status_code == 400  # counted as neither
    assert value("picus_items_created_total") == created + 3
    assert value("picus_items_deleted_total") == deleted + 1


def _held_connection(client: TestClient) -> AbstractContextManager[object]:
    """A pooled connection of the running app, held (as a slow request holds it) until exit."""
    database = client.app_state[SERVICES_KEY].store.database
    assert client.portal is not None, "the client's app is running"
    return client.portal.wrap_async_context_manager(database.transaction())


def _checked_out_settles_at(expected: float) -> bool:
    """The gauge reaches `expected` (the feed's background duties borrow a connection for a
    moment now and then, in this process's other apps too)."""
    deadline = time.monotonic() + 5
    while value("picus_db_pool_checked_out") != expected:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_pool_gauges_follow_checkouts(settings: Settings) -> None:
    small = settings.model_copy(update={"db_pool_size": 2})
    with create_app(small).test_client() as client:
        assert value("picus_db_pool_size") == 2
        before = min(value("picus_db_pool_checked_out") for _ in range(20))
        assert _checked_out_settles_at(before)
        with _held_connection(client), _held_connection(client):
            assert _checked_out_settles_at(before + 2)
        assert _checked_out_settles_at(before)


def _unavailable(cause: str) -> float:
    return value("picus_http_unavailable_total", cause=cause)


def _db_errors(cause: str) -> float:
    return value("picus_db_errors_total", cause=cause)


def test_a_503_for_an_unreachable_database_is_counted_by_cause() -> None:
    url = f"postgresql://picus@127.0.0.1:{free_port()}/picus"
    before, errors_before = _unavailable("connection_failed"), _db_errors("connection_failed")
    with create_app(load_settings(database_url=url)).test_client() as client:
        assert client.get("/readyz").status_code == 503
    assert _unavailable("connection_failed") == before + 1
    assert _db_errors("connection_failed") >= errors_before + 1


def test_a_503_for_an_exhausted_pool_is_counted_by_cause(settings: Settings) -> None:
    tiny = settings.model_copy(update={"db_pool_size": 1, "db_pool_timeout": 0.1})
    before = _unavailable("pool_timeout")
    with create_app(tiny).test_client() as client, _held_connection(client):
        assert client.get("/readyz").status_code == 503
    assert _unavailable("pool_timeout") == before + 1


@contextmanager
def _writes_blocked(settings: Settings) -> Iterator[str]:
    """Hold a lock that makes the app's INSERT wait; yield the cause its timeout is counted as."""
    if settings.embedded:
        with closing(sqlite3.connect(settings.sqlite_path)) as conn:
            conn.execute("BEGIN EXCLUSIVE")
            yield "database_locked"
            conn.rollback()
        return
    dsn = settings.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with closing(psycopg2.connect(dsn)) as conn:
        with conn.cursor() as cursor:
            cursor.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
        yield "statement_timeout"
        conn.rollback()


def test_a_503_for_a_statement_that_timed_out_is_counted_by_cause(settings: Settings) -> None:
    quick = settings.model_copy(update={"db_statement_timeout": 0.3})
    with create_app(quick).test_client() as client, _writes_blocked(settings) as cause:
        before, errors_before = _unavailable(cause), _db_errors(cause)
        assert client.post("/picus/put", json={"waits": True}).status_code == 503
        assert _unavailable(cause) == before + 1
        assert _db_errors(cause) == errors_before + 1


@pytest.mark.parametrize("backend_settings", ["sqlite"], indirect=True)
def test_in_progress_is_back_to_zero_after_requests(client: TestClient) -> None:
    client.get("/healthz")
    assert value("picus_http_requests_in_progress") == 0
    assert sample(client.get("/metrics").text, "picus_http_requests_in_progress") == 1
