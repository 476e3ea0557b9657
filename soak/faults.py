"""The five faults, injected one after another while the load runs, each timed.

A fault is over (`ended`) when the disturbance itself is: PostgreSQL accepts connections
again, the killed worker has a replacement, Nginx's old workers have gone, the burst has
all its answers. Each fault starts only after the previous one has settled, so every
recovery is measured on its own.
"""

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from devtools.postgres import Cluster
from devtools.processes import uvicorn_workers
from soak.burst import burst
from soak.outcomes import Recorder
from soak.processes import wait_for
from soak.proxy import SoakNginx

# uvicorn's supervisor notices a dead worker within about a second, except when the kill
# lands while it waits for that worker's answer to a ping: then only after its healthcheck
# timeout (30 s in `picus serve`). Plus a new worker's start on a busy machine.
RESPAWN_SECONDS = 75.0


@dataclass
class Fault:
    """One injected fault: what, when (monotonic seconds), and what was seen."""

    name: str
    started: float
    ended: float = 0.0
    note: str = ""
    problem: str = ""  # Picus did not come back as promised (e.g. no replacement worker)


@dataclass(frozen=True)
class Target:
    """What the faults act on."""

    postgres: Cluster
    app_pid: int
    workers: int
    nginx: SoakNginx
    burst_connections: int
    client_timeout: float
    recorder: Recorder


@dataclass(frozen=True)
class FaultPlan:
    """When to inject (seconds after the load started) and how long the database stays down."""

    first_at: float
    spacing: float
    settle: float
    database_down: float


def inject(target: Target, plan: FaultPlan, started: float, stop: threading.Event) -> list[Fault]:
    """Run every fault in turn; a fault that fails to run is recorded, and the rest skipped."""
    steps: list[tuple[str, Callable[[Fault], None]]] = [
        ("PostgreSQL fast restart (pg_ctl restart -m fast)", lambda f: _restart(target, f)),
        (
            f"PostgreSQL down {plan.database_down:g} s (stop -m immediate, then start)",
            lambda f: _outage(target, plan.database_down, f),
        ),
        ("kill -9 of one app worker", lambda f: _kill_worker(target, f)),
        ("Nginx reload (SIGHUP)", lambda f: _reload(target, f)),
        (f"burst of {target.burst_connections} connections", lambda f: _burst(target, f)),
    ]
    faults: list[Fault] = []
    not_before = started + plan.first_at
    for index, (name, run) in enumerate(steps):
        at = max(not_before, started + plan.first_at + index * plan.spacing)
        if stop.wait(max(0.0, at - time.monotonic())):
            break
        fault = Fault(name, time.monotonic())
        faults.append(fault)
        try:
            run(fault)
        except Exception as exc:  # the soak reports it; the stack is stopped by the caller
            fault.problem = f"{type(exc).__name__}: {exc}"
        fault.ended = time.monotonic()
        if fault.problem:
            break
        not_before = fault.ended + plan.settle
    return faults


def _restart(target: Target, fault: Fault) -> None:
    target.postgres.restart_fast()
    fault.note = f"pg_ctl returned after {time.monotonic() - fault.started:.1f} s"


def _outage(target: Target, seconds: float, fault: Fault) -> None:
    target.postgres.stop_immediate()
    time.sleep(seconds)
    target.postgres.start_again()
    fault.note = f"accepting connections again after {time.monotonic() - fault.started:.1f} s"


def _kill_worker(target: Target, fault: Fault) -> None:
    workers = uvicorn_workers(target.app_pid)
    if len(workers) != target.workers:
        fault.problem = f"{len(workers)} workers before the kill, expected {target.workers}"
        return
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)

    def replaced() -> bool:
        now = uvicorn_workers(target.app_pid)
        return victim not in now and len(now) == target.workers

    try:
        took = wait_for("a replacement worker", replaced, RESPAWN_SECONDS)
    except TimeoutError:
        fault.problem = f"worker {victim} was not replaced within {RESPAWN_SECONDS:.0f} s"
        return
    newcomer = sorted(set(uvicorn_workers(target.app_pid)) - set(workers))
    fault.note = f"worker {victim} killed; {newcomer} replaced it after {took:.1f} s"


def _reload(target: Target, fault: Fault) -> None:
    took = target.nginx.reload()
    fault.note = f"old Nginx workers gone after {took:.1f} s"


def _burst(target: Target, fault: Fault) -> None:
    burst(target.nginx.url, target.burst_connections, target.client_timeout, target.recorder)
    fault.note = (
        f"all {target.burst_connections} answered after {time.monotonic() - fault.started:.1f} s"
    )
