"""The soak from start to verdict: stack up, load on, faults in, load off, check, stack down.

Everything listens on 127.0.0.1 only, every process is started here and stopped by its
PID, and every phase is bounded in time (the load by `duration`, each retry by
`retry_seconds`, each request by `client_timeout`).
"""

import contextlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from devtools.pgbouncer import PgBouncer
from devtools.postgres import DBNAME, HOST, USER, Cluster
from devtools.servers import LiveServer
from soak.faults import Fault, FaultPlan, Target, inject
from soak.feed import FeedCheck, FeedFollower, check, newest_position, truth
from soak.judge import Verdict, judge
from soak.ledger import Ledger
from soak.load import Features, LoadClient, LoadSettings, discover
from soak.outcomes import Outcome, Recorder
from soak.proxy import SoakNginx, start_nginx, upstream_statuses
from soak.verify import verify

T = TypeVar("T")
WORKERS = 2
START_SECONDS = 90.0  # picus serve on a busy two-core machine (imports, two workers)
FAULTS = 5


@dataclass(frozen=True)
class SoakConfig:
    """The knobs; the defaults are `make soak`'s."""

    workdir: Path
    duration: float = 60.0
    clients: int = 6
    burst_connections: int = 500
    database_down: float = 3.0
    settle: float = 2.0  # seconds after a fault ends in which 502/503 are still allowed
    client_timeout: float = 15.0
    retry_seconds: float = 20.0
    # The app's queries through a real PgBouncer on deploy/pgbouncer/pgbouncer.ini, as in
    # the Compose stack (the PostgreSQL faults then happen behind PgBouncer).
    pgbouncer: bool = False

    def plan(self) -> FaultPlan:
        """Faults spread over the run, after a warm-up, leaving time to settle at the end."""
        warm_up = max(2.0, self.duration * 0.1)
        spacing = (self.duration - 2 * warm_up) / FAULTS
        return FaultPlan(warm_up, spacing, self.settle, self.database_down)


@dataclass
class SoakResult:
    """Everything the report prints."""

    config: SoakConfig
    features: Features
    faults: list[Fault]
    outcomes: list[Outcome]
    ledger: Ledger
    items_checked: int
    seconds: float
    verdict: Verdict
    load_average: float  # the machine's 1-minute load when the load started (2 cores here)
    feed: FeedCheck

    @property
    def passed(self) -> bool:
        """No violation, no lost write, and every fault injected."""
        problems = self.verdict.violations + self.ledger.lost + self.ledger.wrong_answers
        return not problems and len(self.faults) == FAULTS


def _save(outcomes: list[Outcome], faults: list[Fault], path: Path, started: float) -> None:
    """Every request and fault as JSON lines (seconds from the start), for a closer look."""
    with path.open("w", encoding="utf-8") as out:
        for fault in faults:
            row = {
                **asdict(fault),
                "started": fault.started - started,
                "ended": fault.ended - started,
            }
            out.write(json.dumps({"fault": row}) + "\n")
        for outcome in outcomes:
            row = {**asdict(outcome), "sent": outcome.sent - started}
            row["answered"] = outcome.answered - started
            out.write(json.dumps(row) + "\n")


def _with_upstream_status(messages: list[str], nginx: SoakNginx) -> list[str]:
    """Add what Nginx saw upstream for each request named by its X-Request-ID."""
    statuses = upstream_statuses(nginx.access_log)

    def annotated(message: str) -> str:
        found = re.search(r"X-Request-ID (\w+)", message)
        status = statuses.get(found.group(1)) if found else None
        return f"{message}; Nginx upstream_status: {status}" if status else message

    return [annotated(message) for message in messages]


def app_environment(database_url: str, pgbouncer: PgBouncer | None = None) -> dict[str, str]:
    """The app's settings for the soak: the documented knobs, made quick to give up.

    With `pgbouncer`, as docker-compose.yml configures the app: queries through PgBouncer
    without named prepared statements, the change feed's LISTEN straight to PostgreSQL.
    """
    through: dict[str, str] = {}
    if pgbouncer is not None:
        through = {
            "DATABASE_URL": pgbouncer.url(user=USER, database=DBNAME),
            "PICUS_DB_STATEMENT_CACHE_SIZE": "0",
            "PICUS_LISTEN_DATABASE_URL": database_url,
        }
    return {
        "DATABASE_URL": database_url,
        "PICUS_WORKERS": str(WORKERS),
        "PICUS_RETRY_AFTER": "1",
        "PICUS_DB_POOL_TIMEOUT": "2",
        "PICUS_DB_CONNECT_TIMEOUT": "2",
        "PICUS_DB_STATEMENT_TIMEOUT": "5",
        "PICUS_LOG_LEVEL": "info",
        **through,
    }


def run_soak(config: SoakConfig) -> SoakResult:
    """Run the whole soak; the stack is always stopped, even when something fails."""
    config.workdir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        postgres = Cluster(config.workdir, prefix="picus-soak-pg-")
        stack.callback(_timed, "stop: PostgreSQL", postgres.stop)
        _timed("start: PostgreSQL (initdb, migrate)", postgres.start)
        pgbouncer = None
        if config.pgbouncer:
            pgbouncer = PgBouncer(HOST, postgres.port, users={USER: ""})
            stack.callback(_timed, "stop: PgBouncer", lambda: _keep_log(pgbouncer, config))
            _timed("start: PgBouncer (deploy/pgbouncer/pgbouncer.ini)", pgbouncer.start)
        app = LiveServer(
            app_environment(postgres.database_url, pgbouncer),
            workers=WORKERS,
            log_path=config.workdir / "app.log",
            start_timeout=START_SECONDS,
        )
        stack.callback(_timed, "stop: picus serve", app.stop)
        _timed("start: picus serve --workers 2", app.start)
        assert app.process is not None
        nginx = start_nginx(app.port, config.workdir / "nginx")
        stack.callback(_timed, "stop: Nginx", nginx.stop)
        return _load_and_faults(config, postgres, app.process.pid, nginx)
    raise AssertionError("unreachable")  # pragma: no cover - ExitStack does not swallow


def _keep_log(pgbouncer: PgBouncer | None, config: SoakConfig) -> None:
    """Stop PgBouncer and keep its log beside the others."""
    if pgbouncer is None:
        return
    log = pgbouncer.log_text()
    pgbouncer.stop()
    (config.workdir / "pgbouncer.log").write_text(log, encoding="utf-8")


def _timed(what: str, action: Callable[[], T]) -> T:
    """Run `action` and say how long it took (setup and teardown are bounded, not free)."""
    started = time.monotonic()
    result = action()
    print(f"soak: {what} took {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return result


def _load_and_faults(
    config: SoakConfig, postgres: Cluster, app_pid: int, nginx: SoakNginx
) -> SoakResult:
    features = discover(nginx.url)
    ledger, recorder, stop = Ledger(), Recorder(), threading.Event()
    settings = LoadSettings(nginx.url, features, config.client_timeout, config.retry_seconds)
    clients = [LoadClient(i, settings, ledger, recorder, stop) for i in range(config.clients)]
    target = Target(
        postgres, app_pid, WORKERS, nginx, config.burst_connections, config.client_timeout, recorder
    )
    follower = FeedFollower(nginx.url, newest_position(nginx.url))
    follower.start()
    load_average = os.getloadavg()[0]
    started = time.monotonic()
    for client in clients:
        client.start()
    try:
        faults = inject(target, config.plan(), started, stop)
        stop.wait(max(0.0, started + config.duration - time.monotonic()))
    finally:
        stop.set()
        for client in clients:
            client.join(config.retry_seconds + 2 * config.client_timeout)
    seconds = time.monotonic() - started
    stuck = [client.name for client in clients if client.is_alive()]
    items_checked = _timed(
        "verify: every acknowledged write",
        lambda: verify(nginx.url, ledger, recorder, config.client_timeout),
    )
    actual = truth(nginx.url, follower.start_seq)
    head = int(str(actual[-1]["seq"])) if actual else follower.start_seq
    _timed("feed: the follower reaches the head", lambda: follower.finish(head, 30.0))
    feed = check(follower, actual, ledger)
    outcomes = recorder.snapshot()
    _save(outcomes, faults, config.workdir / "outcomes.jsonl", started)
    verdict = judge(outcomes, faults, config.settle, config.client_timeout)
    verdict.violations.extend(f"change feed: {problem}" for problem in feed.problems)
    verdict.violations.extend(f"{name} did not finish its last operation" for name in stuck)
    verdict.violations.extend(client.crash for client in clients if client.crash)
    ledger.wrong_answers[:] = _with_upstream_status(ledger.wrong_answers, nginx)
    return SoakResult(
        config,
        features,
        faults,
        outcomes,
        ledger,
        items_checked,
        seconds,
        verdict,
        load_average,
        feed,
    )
