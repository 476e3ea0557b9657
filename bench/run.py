"""`make bench`: Picus under load on one machine, next to PostgreSQL's own limit.

One run starts a throwaway PostgreSQL, `picus serve --workers 2` (and Nginx in front when
the repository has its config) and the reference peer (FastAPI + asyncpg, bench/peer.py),
seeds 10,000 items through Picus's API and copies them to the peer, then for each
scenario runs pgbench with exactly the SQL the request needs (the physical limit), wrk
direct to the app, through Nginx and to the peer, each for a fixed time after a warm-up.
Then it reads each worker's RSS, opens 1,000 change-feed streams on a one-worker Picus
beside it (bench/streams.py), runs the memory test (streaming the whole list over many
items) and ends with 24 stalled list clients on each service while gets by id are timed
(bench/stall.py). It prints the tables and the targets (bench/targets.py) and writes them
as JSON and Markdown to bench/results/. Ratios within one run are what count.
"""

import argparse
import contextlib
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import load, machine, peer, profile, proxy
from bench.documents import document, document_text
from bench.memory import MIB, TreeSampler, worker_rss
from bench.report import Report, Row
from bench.scenarios import ALL, Scenario
from bench.seed import copy_items, insert_with_sql, seed_through_api
from bench.server import Service, app_server
from bench.stall import stalled_lists
from bench.streams import StreamsTest, raise_file_limit
from bench.targets import evaluate, workers_label
from devtools.postgres import Cluster
from devtools.processes import tree_cpu_seconds

RESULTS = Path(__file__).parent / "results"
SEED_ITEMS = 10_000
BODY_VARIANTS = 100
PROFILE_SECONDS = 10
# Rows set aside for one delete run: a generous guess at the rate times the duration.
DELETE_RATE_GUESS = {"pgbench": 30_000, "picus": 12_000, "reference": 12_000}


@dataclass(frozen=True)
class Plan:
    """How long each part runs; the default is about 7 minutes, --quick about 2."""

    warmup: float
    seconds: float
    stream_items: int
    stall_items: int  # the table in the stalled-list test: each list answer many MB
    budget: float  # the whole run is abandoned (and cleaned up) past this


FULL = Plan(warmup=3, seconds=10, stream_items=1_000_000, stall_items=200_000, budget=20 * 60)
QUICK = Plan(warmup=1, seconds=2, stream_items=100_000, stall_items=50_000, budget=6 * 60)


class Deadline:
    """The run's time bound, checked between steps."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self, step: str) -> None:
        """Give up before `step` once the budget is spent."""
        if time.monotonic() > self.end:
            raise TimeoutError(f"the run exceeded {self.seconds:.0f} s before {step}")

    def left(self) -> float:
        """Seconds remaining (at least one, so a timeout is never zero)."""
        return max(1.0, self.end - time.monotonic())


class Bench:
    """The running pieces of one benchmark run and what they measured."""

    def __init__(
        self,
        plan: Plan,
        cluster: Cluster,
        picus: Service,
        reference: Service | None,
        nginx: proxy.Nginx | None,
        workdir: Path,
        profile_scenarios: set[str],
    ) -> None:
        self.plan = plan
        self.cluster = cluster
        self.picus = picus
        self.reference = reference
        self.nginx = nginx
        self.workdir = workdir
        self.profile_scenarios = profile_scenarios
        self.deadline = Deadline(plan.budget)
        self.rows: list[Row] = []
        self.memory: dict[str, dict[str, float]] = {}
        self.stall: dict[str, dict[str, float]] = {}
        self.streams: dict[str, Any] = {}
        self.first_id = self.last_id = 0
        self.bodies = workdir / "bodies.jsonl"

    def paths(self, scenario: Scenario) -> list[tuple[str, str, Service]]:
        """Where wrk sends requests: Picus direct and through Nginx, then the reference."""
        paths = [("direct", self.picus.url, self.picus)]
        if self.nginx is not None:
            paths.append(("nginx", self.nginx.url, self.picus))
        if self.reference is not None and scenario.reference:
            paths.append(("reference", self.reference.url, self.reference))
        return paths

    def services(self) -> list[Service]:
        """Picus, and the reference when it runs."""
        return [self.picus] if self.reference is None else [self.picus, self.reference]

    def seed(self) -> None:
        """10,000 items through Picus's API (and the POST bodies for wrk); the same rows,
        ids included, copied to the reference."""
        lines = (document_text(document(n)) for n in range(1, BODY_VARIANTS + 1))
        self.bodies.write_text("\n".join(lines) + "\n")
        started = time.monotonic()
        self.first_id, self.last_id = seed_through_api(
            self.picus.db, self.picus.url, self.bodies, SEED_ITEMS, self.deadline.left()
        )
        took = time.monotonic() - started
        print(f"seeded {SEED_ITEMS:,} items through the API in {took:.1f} s", flush=True)
        if self.reference is not None:
            copied = copy_items(self.picus.db, self.reference.db)
            if copied != (self.first_id, self.last_id):
                raise RuntimeError(f"the reference got ids {copied}, not {self.first_id}..")
            print("copied them to the reference's database", flush=True)

    def list_growth(self) -> None:
        """RSS of Picus's tree before and while one client lists the 10,000 items."""
        time.sleep(1)
        idle = self.picus.sampler.now()
        started = time.monotonic()
        count = _stream_list(self.picus.url, self.deadline.left())
        peak = self.picus.sampler.peak(started, time.monotonic())
        if count != SEED_ITEMS:
            raise RuntimeError(f"the list held {count} items, not {SEED_ITEMS}")
        self.memory["list of 10,000 items"] = _mib(idle=idle, peak=peak, growth=peak - idle)

    def scenario(self, scenario: Scenario) -> None:
        """pgbench, then wrk to each path, each after its own warm-up."""
        self.deadline.check(scenario.name)
        baseline, db_cpu = self._pgbench(scenario)
        row = _row(scenario, "pgbench", baseline)
        row.db_cpu_ms = _per_request(db_cpu, baseline)
        self.rows.append(row)
        for via, url, service in self.paths(scenario):
            self.deadline.check(f"{scenario.name} {via}")
            args = self._wrk_args(scenario, service, warmup=True)
            load.wrk(url, scenario.wrk_script, args, scenario.connections, self.plan.warmup)
            args = self._wrk_args(scenario, service, warmup=False)
            started = time.monotonic()
            app_cpu = tree_cpu_seconds(service.pid)
            db_cpu = tree_cpu_seconds(self.cluster.postmaster_pid)
            rate = load.wrk(url, scenario.wrk_script, args, scenario.connections, self.plan.seconds)
            app_cpu = tree_cpu_seconds(service.pid) - app_cpu
            db_cpu = tree_cpu_seconds(self.cluster.postmaster_pid) - db_cpu
            rss = service.sampler.peak(started, time.monotonic())
            row = _row(scenario, via, rate, rss_mib=rss / MIB)
            row.ratio = rate.per_second / baseline.per_second if baseline.per_second else None
            row.app_cpu_ms = _per_request(app_cpu, rate)
            row.db_cpu_ms = _per_request(db_cpu, rate)
            self.rows.append(row)
            print(f"  {scenario.name:6} {via:9} {rate.per_second:9,.0f}/s", flush=True)
            if via == "direct" and scenario.name in self.profile_scenarios:
                self._profile(scenario, url)

    def _pgbench(self, scenario: Scenario) -> tuple[load.Rate, float]:
        """The baseline's rate, and PostgreSQL's CPU seconds during the measured run."""
        defines = {
            "first_id": str(self.first_id),
            "last_id": str(self.last_id),
            "doc": document_text(document(0)),
        }
        expected = DELETE_RATE_GUESS["pgbench"]
        for warmup in (True, False):
            seconds = self.plan.warmup if warmup else self.plan.seconds
            if scenario.name == "delete":
                first, _last = insert_with_sql(self.picus.db, round(expected * (seconds + 1)))
                self.cluster.execute("CREATE SEQUENCE IF NOT EXISTS bench_delete_ids")
                self.cluster.execute(
                    "SELECT setval('bench_delete_ids', :first, false)", first=first
                )
            db_cpu = tree_cpu_seconds(self.cluster.postmaster_pid)
            rate = load.pgbench(
                self.cluster.pgbench_args(),
                scenario.pgbench_scripts,
                defines,
                scenario.connections,
                seconds,
            )
            db_cpu = tree_cpu_seconds(self.cluster.postmaster_pid) - db_cpu
        print(f"  {scenario.name:6} {'pgbench':9} {rate.per_second:9,.0f}/s", flush=True)
        return rate, db_cpu

    def _wrk_args(self, scenario: Scenario, service: Service, warmup: bool) -> list[str]:
        ids = [str(self.first_id), str(self.last_id)]
        if scenario.name in {"get", "page"}:
            return ids
        if scenario.name == "put":
            return [str(self.bodies)]
        if scenario.name == "mixed":
            return [*ids, str(self.bodies)]
        if scenario.name == "delete":
            seconds = self.plan.warmup if warmup else self.plan.seconds
            count = round(DELETE_RATE_GUESS[service.name] * (seconds + 1))
            first, last = insert_with_sql(service.db, count)
            return [str(first), str(last), str(min(load.WRK_THREADS, scenario.connections))]
        return []

    def _profile(self, scenario: Scenario, url: str) -> None:
        """An extra, profiled run (so py-spy's overhead stays out of the table)."""
        raw = self.workdir / f"profile-{scenario.name}.raw.txt"
        seconds = max(self.plan.seconds, PROFILE_SECONDS)
        args = self._wrk_args(scenario, self.picus, warmup=False)
        spy = profile.start(self.picus.pid, seconds, raw)
        time.sleep(0.5)  # let py-spy attach before the load starts
        load.wrk(url, scenario.wrk_script, args, scenario.connections, seconds)
        _, errors = spy.communicate(timeout=seconds + 30)
        if spy.returncode != 0 or not raw.exists():
            raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')}")
        summary = self.workdir / f"profile-{scenario.name}.txt"
        summary.write_text(profile.summarise(raw))
        print(f"  profile of {scenario.name}: {summary}", flush=True)

    def workers(self) -> None:
        """VmRSS of each worker of each service, now that every scenario has warmed it."""
        for service in self.services():
            sizes = sorted(worker_rss(service.pid).values(), reverse=True)
            if not sizes:
                raise RuntimeError(f"{service.name}: no worker process under {service.pid}")
            figures = {f"worker {n} MiB": round(size / MIB, 1) for n, size in enumerate(sizes, 1)}
            self.memory[workers_label(service.name)] = {
                "max MiB": round(sizes[0] / MIB, 1),
                **figures,
            }
            print(f"RSS per worker, {service.name}: {figures}", flush=True)

    def change_streams(self) -> None:
        """1,000 change-feed streams on a one-worker Picus of its own (the same command,
        environment and database), so that they all land on one worker; while the seeded
        items are still there for its gets."""
        self.deadline.check("the change-feed streams test")
        raise_file_limit()  # before the server starts: it inherits the limit
        main = self.picus.server
        log = self.workdir / "streams-server.log"
        server = app_server(main.env, log, main.command, workers=1)
        server.start()
        try:
            ids = (self.first_id, self.last_id)
            plan = self.plan
            test = StreamsTest(
                server, self.picus.db, ids, plan.warmup, plan.seconds, self.deadline.left()
            )
            self.streams = test.run()
        finally:
            server.stop()
        print(f"change-feed streams, one worker: {self.streams}", flush=True)

    def stalled(self) -> None:
        """The stalled-list test on each service, last (its lists leave memory behind that
        would hide the streaming test's growth), each over a table of exactly
        `stall_items` fresh items; the reference is stopped afterwards."""
        for service in self.services():
            self.deadline.check(f"the stalled-list test on {service.name}")
            service.db.execute("TRUNCATE items")
            first, last = insert_with_sql(service.db, self.plan.stall_items)
            time.sleep(1)  # let the server settle after the bulk insert
            figures = stalled_lists(service.url, first, last)
            figures["table items"] = service.db.scalar("SELECT count(*) FROM items")
            self.stall[service.name] = figures
            print(f"stalled list clients, {service.name}: {figures}", flush=True)
        if self.reference is not None:
            self.reference.server.stop()

    def stream(self) -> None:
        """Memory while one client streams the whole list over `stream_items` items."""
        self.deadline.check("the streaming test")
        time.sleep(1)  # let writes still in flight from the last wrk run land first
        self.cluster.execute("TRUNCATE items")
        started = time.monotonic()
        insert_with_sql(self.picus.db, self.plan.stream_items)
        print(
            f"inserted {self.plan.stream_items:,} items with SQL "
            f"in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        time.sleep(1)
        sampler = self.picus.sampler
        idle = sampler.now()
        started = time.monotonic()
        count = _stream_list(self.picus.url, self.deadline.left())
        took = time.monotonic() - started
        peak = sampler.peak(started, time.monotonic())
        if count != self.plan.stream_items:
            raise RuntimeError(f"the list held {count} items, not {self.plan.stream_items}")
        label = f"stream of {self.plan.stream_items:,} items"
        self.memory[label] = _mib(idle=idle, peak=peak, growth=peak - idle)
        self.memory[label]["items/s"] = round(count / took)
        self.memory[label]["seconds"] = round(took, 1)


def _row(scenario: Scenario, via: str, rate: load.Rate, rss_mib: float | None = None) -> Row:
    return Row(
        scenario=scenario.name,
        via=via,
        connections=scenario.connections,
        per_second=round(rate.per_second, 1),
        p50_ms=round(rate.p50_ms, 2),
        p99_ms=round(rate.p99_ms, 2),
        failed=rate.failed,
        rss_mib=None if rss_mib is None else round(rss_mib, 1),
    )


def _per_request(cpu_seconds: float, rate: load.Rate) -> float | None:
    """CPU milliseconds per request (or transaction)."""
    return round(1000 * cpu_seconds / rate.requests, 3) if rate.requests else None


def _mib(**values: int) -> dict[str, float]:
    return {f"{key} MiB": round(value / MIB, 1) for key, value in values.items()}


def _stream_list(base_url: str, timeout: float) -> int:
    """GET /picus/list, consuming the stream; return how many items it held."""
    marker = b'{"id":'
    count, tail = 0, b""
    with httpx.stream("GET", f"{base_url}/picus/list", timeout=timeout) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            data = tail + chunk
            count += data.count(marker)
            # Keep a partial marker that may be completed by the next chunk.
            tail = data[-(len(marker) - 1) :] if not data.endswith(marker) else b""
            count -= tail.count(marker)
    return count


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about 2 minutes instead of 7")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenarios to run, `stall`, `stream` and `streams` (the change"
        " feed) included (default: all)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the server, e.g. PICUS_DB_POOL_SIZE=20 (repeatable)",
    )
    parser.add_argument(
        "--app-command",
        default=None,
        help="replace `picus serve --workers 2`; {port} and {workers} are filled in",
    )
    parser.add_argument(
        "--profile",
        default="",
        help="comma-separated scenarios to profile with py-spy in an extra run",
    )
    parser.add_argument("--no-nginx", action="store_true", help="direct to the app only")
    parser.add_argument(
        "--reference",
        type=Path,
        default=peer.PEER_DIR,
        help="the reference peer's folder (default: %(default)s)",
    )
    parser.add_argument("--no-reference", action="store_true", help="leave the reference peer out")
    parser.add_argument("--seconds", type=float, help="override the measured seconds per run")
    parser.add_argument("--warmup", type=float, help="override the warm-up seconds per run")
    parser.add_argument("--label", default="", help="a name for this run in the results")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output directory")
    return parser.parse_args(argv)


def _reference_venv(args: argparse.Namespace, meta: dict[str, Any]) -> Path | None:
    """The reference peer's bin directory (installed if needed), or None and why not."""
    reason = (
        "disabled (--no-reference)" if args.no_reference else peer.absent_reason(args.reference)
    )
    if reason is not None:
        print(f"reference peer: not run, {reason}", flush=True)
        meta["reference"] = reason
        return None
    bin_dir = peer.ensure_venv(args.reference)
    meta["reference"] = {"folder": str(args.reference), "packages": peer.versions(bin_dir)}
    return bin_dir


def _start_reference(
    args: argparse.Namespace,
    bin_dir: Path | None,
    cluster: Cluster,
    workdir: Path,
    stack: contextlib.ExitStack,
) -> Service | None:
    """The reference peer on its own database in `cluster`, with its memory sampler."""
    if bin_dir is None:
        return None
    database = peer.prepare(cluster, args.reference, bin_dir)
    server = peer.server(database, args.reference, bin_dir, workdir / "reference.log")
    stack.callback(server.stop)
    server.start()
    sampler = TreeSampler(server.pid).start()
    stack.callback(sampler.stop)
    return Service("reference", server, database, sampler)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; the exit status is 0 when it ran (targets are reported, not enforced)."""
    args = _parse_args(argv)
    plan = QUICK if args.quick else FULL
    plan = replace(
        plan,
        seconds=args.seconds or plan.seconds,
        warmup=args.warmup if args.warmup is not None else plan.warmup,
    )
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    stem = f"{stamp}-{args.label}" if args.label else stamp
    workdir = args.results / stem
    workdir.mkdir(parents=True, exist_ok=True)
    only = {name for name in args.only.split(",") if name}
    env = dict(item.split("=", 1) for item in args.env)
    meta: dict[str, Any] = {
        "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "load_average_start": machine.load_average(),
    }
    meta |= machine.describe() | {
        "label": args.label,
        "plan": plan.__dict__,
        "server_command": args.app_command or "picus serve --workers 2",
        "server_env": env,
    }
    print(f"load average at start: {meta['load_average_start']}", flush=True)
    started = time.monotonic()
    reference_bin = _reference_venv(args, meta)
    with contextlib.ExitStack() as stack:
        cluster = Cluster(prefix="picus-bench-pg-")
        stack.callback(cluster.stop)
        cluster.start(env)
        server = app_server(
            {"DATABASE_URL": cluster.database_url, **env},
            workdir / "server.log",
            args.app_command,
        )
        stack.callback(server.stop)
        server.start()
        nginx = None if args.no_nginx else proxy.start_in_front_of(server.port, workdir, stack)
        if nginx is not None:
            meta["nginx"] = nginx.describe()
        else:
            meta["nginx"] = "disabled (--no-nginx)" if args.no_nginx else proxy.absent_reason()
        sampler = TreeSampler(server.pid).start()
        stack.callback(sampler.stop)
        picus = Service("picus", server, cluster.picus, sampler)
        reference = _start_reference(args, reference_bin, cluster, workdir, stack)
        if reference is not None:
            meta["reference"]["command"] = reference.server.command
        profiled = set(args.profile.split(","))
        bench = Bench(plan, cluster, picus, reference, nginx, workdir, profiled)
        bench.seed()
        bench.list_growth()
        for scenario in ALL:
            if not only or scenario.name in only:
                bench.scenario(scenario)
        bench.workers()
        if not only or "streams" in only:
            bench.change_streams()
        if not only or "stream" in only:
            bench.stream()
        if not only or "stall" in only:
            bench.stalled()
        meta["load_average_end"] = machine.load_average()
        meta["seconds"] = round(time.monotonic() - started)
        targets = evaluate(bench.rows, bench.memory, bench.stall, bench.streams)
        report = Report(meta, bench.rows, bench.memory, bench.stall, bench.streams, targets)
    print(f"\nran {meta['seconds']} s; load average at the end: {meta['load_average_end']}")
    print(report.table())
    for path in report.write(args.results, stem):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
