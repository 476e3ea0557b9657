"""/metrics on a real server with two uvicorn workers: counts add up over both workers."""

import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from devtools.processes import uvicorn_workers
from devtools.servers import LiveServer
from tests.ops.support import LIST_ONE, access_lines, log_lines, sample, scrape

BATCH = 8
MAX_BATCHES = 25  # bounds the loop: at most 200 requests
DEADLINE_S = 60.0
SETTLE_S = 5.0


def _list_once(url: str) -> int:
    """One request on its own connection, so the kernel may hand it to either worker."""
    with httpx.Client(timeout=10.0) as client:
        return client.get(f"{url}/picus/list", params={"limit": 1}).status_code


def test_request_count_is_exact_over_two_workers(pg_env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with LiveServer(pg_env, workers=2, log_path=log) as server:
        sent, workers_seen = 0, set()
        deadline = time.monotonic() + DEADLINE_S
        with ThreadPoolExecutor(max_workers=4) as pool:
            for _ in range(MAX_BATCHES):
                statuses = list(pool.map(_list_once, [server.url] * BATCH))
                assert statuses == [200] * BATCH
                sent += BATCH
                workers_seen = {
                    line["process"]
                    for line in access_lines(log)
                    if line.get("operation_id") == LIST_ONE
                }
                if len(workers_seen) == 2 or time.monotonic() > deadline:
                    break
        # Without multiprocess mode each worker would report only its own share.
        assert len(workers_seen) == 2, "one worker served every request; nothing to add up"
        # A worker logs and counts a request just after answering it: give the last ones a
        # moment (bounded) before the exact checks.
        labels = {"operation": LIST_ONE, "method": "GET", "status": "200"}
        settle = time.monotonic() + SETTLE_S
        while time.monotonic() < settle and (
            len(_list_lines(log)) < sent
            or sample(scrape(server.url), "picus_http_requests_total", **labels) != sent
        ):
            time.sleep(0.1)
        served = Counter(line["process"] for line in _list_lines(log))
        assert sum(served.values()) == sent, served
        for _ in range(4):  # several scrapes: whichever worker answers, the total is the same
            text = scrape(server.url)
            assert sample(text, "picus_http_requests_total", **labels) == sent, served
            assert sample(text, "picus_http_request_duration_seconds_count", **labels) == sent
            assert sample(text, "picus_http_requests_in_progress") == 1  # this scrape
            # Two live workers' pools (a worker uvicorn had replaced would make this 30).
            assert sample(text, "picus_db_pool_size") == 2 * 10, log.read_text()[-3000:]
        assert server.stop() == 0


def test_metrics_directory_is_emptied_on_start(pg_env: dict[str, str], tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    env = {**pg_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with LiveServer(env) as server:
        httpx.get(f"{server.url}/picus/list", params={"limit": 1})
        assert list(metrics_dir.glob("*.db")), "the configured directory holds the values"
    with LiveServer(env) as server:
        text = scrape(server.url)
        labels = {"operation": LIST_ONE, "method": "GET", "status": "200"}
        assert sample(text, "picus_http_requests_total", **labels) is None  # the old run's 1


def _list_lines(log: Path) -> list[dict[str, object]]:
    """The access lines of the requests this test counts."""
    return [line for line in access_lines(log) if line.get("operation_id") == LIST_ONE]


def _workers(server: LiveServer) -> set[int]:
    """uvicorn's worker processes: the children of `picus serve` but its resource tracker."""
    return set(uvicorn_workers(server.pid))


def test_a_killed_worker_leaves_no_stale_gauge(pg_env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with LiveServer(pg_env, workers=2, log_path=log) as server:
        before = _workers(server)
        assert len(before) == 2
        victim = min(before)
        os.kill(victim, signal.SIGKILL)  # a worker of the server this test started
        deadline = time.monotonic() + DEADLINE_S
        started: set[int] = set()
        while time.monotonic() < deadline and not started:
            replacements = _workers(server) - before
            started = {
                line["process"]
                for line in log_lines(log)
                if line["process"] in replacements
                and line["message"] == "Application startup complete."
            }
            time.sleep(0.2)
        assert started, "uvicorn did not replace the killed worker"
        # Two live pools: the replacement's counts, the victim's no longer does (else 30).
        text = scrape(server.url)
        assert sample(text, "picus_db_pool_size") == 2 * 10
        assert sample(text, "picus_http_requests_in_progress") == 1
