"""Clients that ask for the whole list and never read it hold no database connection.

Before, each such client held a server thread and a pooled connection for as long as it
stayed: 10 of them stopped the whole worker. The list is now read in short keyset queries,
and the connection goes back to the pool between two of them.
"""

import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import httpx
import psycopg2
import pytest
from sqlalchemy.engine import URL

from devtools.servers import LiveServer
from tests.ops.support import sample
from tests.support.database import picus_connections
from tests.support.raw_http import stalled_list_reader

STALLED = 24
ITEMS = 60_000  # about 13 MB of list: far more than the socket buffers hold


@pytest.fixture
def big_table_server(pg_url: URL, pg_env: dict[str, str], tmp_path: Path) -> Iterator[LiveServer]:
    """`picus serve` with a pool of 2 connections, on a table of ITEMS documents."""
    dsn = pg_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO items (data, created_at, updated_at, version) "
            "SELECT jsonb_build_object('n', n, 'pad', repeat('x', 150)), now(), now(), 1 "
            "FROM generate_series(1, %s) AS n",
            (ITEMS,),
        )
        conn.commit()
    env = {**pg_env, "PICUS_DB_POOL_SIZE": "2", "PICUS_DB_POOL_TIMEOUT": "1"}
    with LiveServer(env, log_path=tmp_path / "server.log") as server:
        yield server


def _in_progress(server: LiveServer) -> float:
    value = sample(httpx.get(f"{server.url}/metrics").text, "picus_http_requests_in_progress")
    assert value is not None, "the gauge is exported"
    return value


def test_stalled_list_readers_hold_no_connection_and_block_nobody(
    big_table_server: LiveServer, pg_url: URL
) -> None:
    server = big_table_server
    with ExitStack() as stalled, httpx.Client(base_url=server.url, timeout=5) as client:
        for _ in range(STALLED):
            stalled.enter_context(stalled_list_reader(server.port))
        time.sleep(1.0)  # every stalled list has started and filled its socket
        first = client.get("/picus/list", params={"limit": 1}).json()[0]["id"]
        for item_id in range(first, first + 20):
            response = client.get(f"/picus/get/{item_id}")
            assert response.status_code == 200, response.text  # a held pool would be 503
        assert client.get("/healthz").status_code == 200
        assert client.post("/picus/put", json={"while": "stalled"}).status_code == 201
        # None is busy with a list's query (running it, or held in its transaction).
        assert picus_connections(pg_url, "state <> 'idle' AND query ILIKE '%string_agg%'") == 0
    # The clients have gone: their lists end, and the server serves as before.
    deadline = time.monotonic() + 10
    while _in_progress(server) > 1:  # the scrape itself is one
        assert time.monotonic() < deadline, "the stalled lists did not end with their clients"
        time.sleep(0.2)
    listed = httpx.get(f"{server.url}/picus/list", params={"limit": 1000}, timeout=10)
    assert listed.status_code == 200
