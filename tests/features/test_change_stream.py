"""The change feed followed live, as a browser's EventSource or `curl -N` follows it.

Against a real `picus serve` (uvicorn, LISTEN/NOTIFY on PostgreSQL, the poll on SQLite),
because an endless answer is what the in-process test client cannot read.
"""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx
import psycopg2
import pytest
from sqlalchemy.engine import URL

from devtools.servers import LiveServer
from tests.ops.support import sample
from tests.support.database import picus_connections
from tests.support.sse import events, take_changes

QUICK = {"PICUS_CHANGES_KEEPALIVE": "0.3", "PICUS_CHANGES_RETRY_MS": "500"}
STREAM = {"Accept": "text/event-stream"}
TIMEOUT = httpx.Timeout(10.0)


@pytest.fixture
def server(pg_env: dict[str, str], tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer({**pg_env, **QUICK}, log_path=tmp_path / "server.log") as live:
        yield live


def _create(http: httpx.Client, document: object) -> int:
    created = http.post("/picus/put", json=document)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_a_stream_sends_what_happened_then_each_change_as_it_commits(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        first = _create(http, {"n": 1})
        with http.stream("GET", "/picus/changes", headers=STREAM) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            stream = events(response)
            opening = next(stream)
            assert opening.retry == 500
            (backlog,) = take_changes(stream, 1)
            assert backlog.event == "created"
            assert backlog.change["id"] == first
            assert backlog.id == str(backlog.change["seq"])
            second = _create(http, {"n": 2})
            committed = time.monotonic()
            (live,) = take_changes(stream, 1)
            assert time.monotonic() - committed < 1.0, "a new change reaches streams within 1 s"
            assert (live.event, live.change["id"]) == ("created", second)
            assert int(str(live.change["seq"])) > int(str(backlog.change["seq"]))


def test_a_quiet_stream_sends_keep_alive_comments(server: LiveServer) -> None:
    with (
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as http,
        http.stream("GET", "/picus/changes", headers=STREAM) as response,
    ):
        comments = [e.comment for e, _ in zip(events(response), range(4), strict=False)]
    assert comments[1:4] == ["keep-alive"] * 3


def test_a_reconnecting_client_resumes_after_its_last_event_id(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        ids = [_create(http, n) for n in range(4)]
        with http.stream("GET", "/picus/changes", headers=STREAM) as response:
            seen = take_changes(events(response), 2)
        # The connection dropped after two events; EventSource sends the last id it saw.
        headers = {**STREAM, "Last-Event-ID": str(seen[-1].id)}
        with http.stream("GET", "/picus/changes?since=0", headers=headers) as response:
            rest = take_changes(events(response), 2)
    assert [e.change["id"] for e in seen + rest] == ids


def test_a_position_that_is_gone_is_410_before_the_stream_starts(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        bad = http.get("/picus/changes", headers={**STREAM, "Last-Event-ID": "nope"})
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem+json")


def test_one_listening_connection_per_worker_however_many_streams(
    pg_url: URL, pg_env: dict[str, str], tmp_path: Path
) -> None:
    with (
        LiveServer({**pg_env, **QUICK}, workers=2, log_path=tmp_path / "s.log") as live,
        httpx.Client(base_url=live.url, timeout=TIMEOUT) as http,
    ):
        streams = [http.stream("GET", "/picus/changes", headers=STREAM) for _ in range(12)]
        opened = [stream.__enter__() for stream in streams]
        try:
            assert all(response.status_code == 200 for response in opened)
            deadline = time.monotonic() + 10  # until both workers have started
            while picus_connections(pg_url, "query ILIKE 'LISTEN%'") < 2:
                assert time.monotonic() < deadline, "a worker is not listening"
                time.sleep(0.2)
            assert picus_connections(pg_url, "query ILIKE 'LISTEN%'") == 2
            assert picus_connections(pg_url, "state <> 'idle'") == 0  # waiting streams hold none
        finally:
            for stream in streams:
                stream.__exit__(None, None, None)


def test_a_client_that_leaves_is_forgotten(server: LiveServer) -> None:
    def in_progress() -> float | None:
        return sample(httpx.get(f"{server.url}/metrics").text, "picus_http_requests_in_progress")

    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        for _ in range(5):
            with http.stream("GET", "/picus/changes", headers=STREAM) as response:
                next(events(response))
    deadline = time.monotonic() + 5
    while in_progress() != 1.0:  # the scrape itself
        assert time.monotonic() < deadline, "streams outlived their clients"
        time.sleep(0.1)


def test_a_graceful_stop_ends_open_streams_at_once(pg_env: dict[str, str], tmp_path: Path) -> None:
    live = LiveServer({**pg_env, **QUICK}, log_path=tmp_path / "stop.log").start()
    ended = threading.Event()

    def follow() -> None:
        with (
            httpx.Client(base_url=live.url, timeout=TIMEOUT) as http,
            http.stream("GET", "/picus/changes", headers=STREAM) as response,
        ):
            for _ in events(response):
                pass
        ended.set()  # the answer ended cleanly (no error from httpx)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert live.stop(timeout=15) == 0  # SIGTERM, as an orchestrator stops it
    assert time.monotonic() - started < 5.0, "an open stream held the stop up"
    follower.join(5)
    assert ended.is_set()


def test_the_feed_follows_commit_order_while_a_slow_transaction_is_open(
    server: LiveServer, pg_url: URL
) -> None:
    """A change that commits later gets a later seq, even if its transaction began first."""
    dsn = pg_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        with closing(psycopg2.connect(dsn)) as slow, slow.cursor() as cursor:
            # A writer that has inserted its item and change row but not committed yet.
            cursor.execute(
                "INSERT INTO items (data, created_at, updated_at, version) "
                "VALUES ('\"slow\"', now(), now(), 1) RETURNING id"
            )
            row = cursor.fetchone()
            assert row is not None
            slow_id = row[0]
            cursor.execute(
                "INSERT INTO changes (item_id, op, version, at) VALUES (%s, 'created', 1, now())",
                (slow_id,),
            )
            fast_id = _create(http, "fast")
            seen = http.get("/picus/changes").json()
            assert [c["id"] for c in seen] == [fast_id]
            slow.commit()
        _create(http, "later")  # its numbering also numbers the slow one
        after = http.get("/picus/changes", params={"since": seen[-1]["seq"]}).json()
    assert after[0]["id"] == slow_id
    assert all(c["seq"] > seen[-1]["seq"] for c in after)


def test_concurrent_writers_on_two_workers_make_a_gapless_ordered_feed(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    with (
        LiveServer({**pg_env, **QUICK}, workers=2, log_path=tmp_path / "c.log") as live,
        httpx.Client(base_url=live.url, timeout=TIMEOUT) as http,
        http.stream("GET", "/picus/changes", headers=STREAM) as response,
    ):
        stream = events(response)
        next(stream)  # retry: the stream is open before any write

        def write(n: int) -> int:
            with httpx.Client(base_url=live.url, timeout=TIMEOUT) as own:
                return _create(own, {"writer": n})

        with ThreadPoolExecutor(max_workers=8) as pool:
            created = list(pool.map(write, range(80)))
        followed = take_changes(stream, 80, within=20)
    seqs = [int(str(e.change["seq"])) for e in followed]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 80
    assert sorted(int(str(e.change["id"])) for e in followed) == sorted(created)


def test_the_embedded_sqlite_default_streams_too(tmp_path: Path) -> None:
    env = {"PICUS_SQLITE_PATH": str(tmp_path / "picus.sqlite3"), **QUICK}
    with (
        LiveServer(env, log_path=tmp_path / "sqlite.log") as live,
        httpx.Client(base_url=live.url, timeout=TIMEOUT) as http,
    ):
        first = _create(http, 1)
        with http.stream("GET", "/picus/changes", headers=STREAM) as response:
            stream = events(response)
            assert take_changes(stream, 1)[0].change["id"] == first
            second = _create(http, 2)
            committed = time.monotonic()
            assert take_changes(stream, 1)[0].change["id"] == second
            assert time.monotonic() - committed < 1.0
