"""Many replicas without Docker: three `picus serve` behind the project's Nginx and PgBouncer.

What `docker compose up --scale app=3` runs, on loopback: three replicas (one worker each)
whose connections go through a real PgBouncer on the shipped ini, behind a real Nginx
rendered from the template, its upstream the three replicas (Compose gets the same from
one DNS name with three addresses). The soak's mixed load (soak/load.py: creates with
Idempotency-Key, reads, replaces, deletes, pages; every write in a ledger) runs through
Nginx while one replica is killed with SIGKILL (by its PID) and started again.

Then, as in the soak: every acknowledged write is there (read back through Nginx), no
answer was a 500, malformed or hung, errors (502 for requests that met the dying replica)
came only inside the fault's window, the other two kept serving during it, and the
restarted replica serves again. Bounded: about 40 s of wall time (`make scale-test`).
"""

import concurrent.futures
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from devtools.nginx import Nginx, nginx_environment, render_templates, with_upstream_servers
from devtools.pgbouncer import PgBouncer
from devtools.servers import LiveServer, free_port
from soak.faults import Fault
from soak.judge import judge
from soak.ledger import Ledger
from soak.load import LoadClient, LoadSettings, discover
from soak.outcomes import Recorder
from soak.verify import verify

REPLICAS = 3
CLIENTS = 4
LOAD_SECONDS = 24.0
KILL_AT = 6.0  # seconds into the load
CLIENT_TIMEOUT = 10.0
RETRY_SECONDS = 15.0
SETTLE = 2.0
START_SECONDS = 60.0
# Nginx's upstream defaults (max_fails=1 fail_timeout=10s): after a failure it leaves the
# replica alone for 10 s, then tries it again; the load must outlast that.
NGINX_FAIL_TIMEOUT = 10.0
# The per-address limits are for clients on the internet; the load's threads share one.
UNLIMITED = {
    "PICUS_WRITE_RATE": "100000r/s",
    "PICUS_WRITE_BURST": "100000",
    "PICUS_READ_RATE": "100000r/s",
    "PICUS_READ_BURST": "100000",
    "PICUS_CONN_PER_ADDRESS": "60000",  # Nginx caps it below 65536
}


def _replica_env(pgbouncer: PgBouncer, pg_url: URL, metrics: Path) -> dict[str, str]:
    """A replica as the Compose service `app` is configured, on loopback."""
    metrics.mkdir(parents=True, exist_ok=True)
    return {
        "DATABASE_URL": pgbouncer.url(database=pg_url.database or "picus"),
        "PICUS_DB_STATEMENT_CACHE_SIZE": "0",
        "PICUS_LISTEN_DATABASE_URL": pg_url.render_as_string(hide_password=False),
        "PICUS_DB_POOL_SIZE": "5",
        "PICUS_RETRY_AFTER": "1",
        "PICUS_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }


@pytest.fixture
def replicas(
    pgbouncer_installed: None,
    pgbouncer: PgBouncer,
    pg_url: URL,
    pg_env: dict[str, str],  # empties the database
    tmp_path: Path,
) -> Iterator[list[LiveServer]]:
    servers = [
        LiveServer(
            _replica_env(pgbouncer, pg_url, tmp_path / f"metrics-{n}"),
            log_path=tmp_path / f"replica-{n}.log",
            start_timeout=START_SECONDS,
        )
        for n in range(REPLICAS)
    ]
    try:
        with concurrent.futures.ThreadPoolExecutor(REPLICAS) as pool:
            list(pool.map(LiveServer.start, servers))
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def nginx_of_three(
    nginx_installed: None, replicas: list[LiveServer], tmp_path: Path
) -> Iterator[Nginx]:
    port = free_port()
    confs = render_templates(nginx_environment(port, replicas[0].port, **UNLIMITED))
    site_conf = with_upstream_servers(
        confs.pop("default.conf"), [f"127.0.0.1:{server.port}" for server in replicas]
    )
    nginx = Nginx(site_conf, tmp_path / "nginx", port, extra_confs=confs).start()
    try:
        yield nginx
    finally:
        nginx.stop()


def _served_by(nginx: Nginx) -> list[tuple[float, str]]:
    """(seconds since the epoch, upstream port) of every proxied answer in the access log."""
    served = []
    for line in nginx.access_log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        upstream = str(entry["upstream_addr"])
        if upstream and str(entry["status"]).startswith("2"):
            stamp = time.mktime(time.strptime(str(entry["time"])[:19], "%Y-%m-%dT%H:%M:%S"))
            served.append((stamp, upstream.rsplit(":", 1)[-1]))
    return served


def test_a_replica_killed_under_load_loses_nothing_and_the_others_keep_serving(
    replicas: list[LiveServer], nginx_of_three: Nginx
) -> None:
    nginx = nginx_of_three
    features = discover(nginx.url)
    ledger, recorder, stop = Ledger(), Recorder(), threading.Event()
    settings = LoadSettings(nginx.url, features, CLIENT_TIMEOUT, RETRY_SECONDS)
    clients = [LoadClient(i, settings, ledger, recorder, stop) for i in range(CLIENTS)]
    started = time.monotonic()
    for client in clients:
        client.start()
    try:
        stop.wait(KILL_AT)
        victim = replicas[1]
        fault = Fault(f"SIGKILL of the replica on port {victim.port}", time.monotonic())
        os.kill(victim.pid, signal.SIGKILL)
        assert victim.process is not None
        victim.process.wait(10)
        killed_at_wall = time.time()
        restarted = LiveServer(
            victim.env, port=victim.port, log_path=victim.log_path, start_timeout=START_SECONDS
        )
        replicas[1] = restarted  # stopped by the fixture
        restarted.start()
        fault.ended = time.monotonic()
        fault.note = f"started again after {fault.ended - fault.started:.1f} s"
        stop.wait(max(0.0, started + LOAD_SECONDS - time.monotonic()))
    finally:
        stop.set()
        for client in clients:
            client.join(RETRY_SECONDS + 2 * CLIENT_TIMEOUT)
    assert not [client.name for client in clients if client.is_alive()], "a client hung"
    assert not [client.crash for client in clients if client.crash]

    checked = verify(nginx.url, ledger, recorder, CLIENT_TIMEOUT)
    outcomes = recorder.snapshot()
    # A replica that Nginx marked failed is tried again after fail_timeout: errors up to
    # then belong to the fault too.
    window = Fault(fault.name, fault.started, fault.started + NGINX_FAIL_TIMEOUT + SETTLE)
    window.ended = max(window.ended, fault.ended)
    verdict = judge(outcomes, [window], SETTLE, CLIENT_TIMEOUT)
    summary = (
        f"{len(outcomes)} requests, {checked} items checked, "
        f"{ledger.unacknowledged_creates} unacknowledged creates; {fault.note}; "
        f"errors in the window: {verdict.per_fault[0].errors}"
    )

    print(summary)
    assert checked > 50, summary
    assert ledger.lost == [], summary
    assert ledger.wrong_answers == [], summary
    assert verdict.violations == [], summary
    # The other two kept serving while the victim was down.
    assert verdict.per_fault[0].served_during > 20, summary
    served = _served_by(nginx)
    survivors = {str(server.port) for n, server in enumerate(replicas) if n != 1}
    during = {port for stamp, port in served if killed_at_wall <= stamp}
    assert survivors <= during, (survivors, during)
    # ...and the restarted replica rejoined the upstream once Nginx tried it again.
    rejoined = [stamp for stamp, port in served if port == str(victim.port)]
    assert rejoined, "the restarted replica never served"
    assert max(rejoined) >= killed_at_wall, summary
    assert time.monotonic() - started < 60, "the test must stay bounded"
