"""CPU cost per request, measured in one process: how two variants of the code are compared.

On two cores shared with other work, requests per second swing by ±30 % from one minute
to the next; the CPU time one request costs the app barely moves. This drives the app
in-process (Connexion's test client, the full middleware stack, a real PostgreSQL) and
reports CPU milliseconds per request for each operation.

    .venv/bin/python -m bench.cost [--code DIR] [--env KEY=VALUE ...]

`--code DIR` imports `picus` from DIR (a patched copy of the package) instead of the
checkout, so a lever can be measured before it is committed.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REQUESTS = {"get": 1000, "page": 300, "put": 800, "list": 6}
REPEATS = 3


def main(argv: list[str] | None = None) -> int:
    """Measure each operation REPEATS times; print the median CPU ms per request."""
    parser = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__)
    parser.add_argument("--code", type=Path, help="import picus from this directory")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--only", default="", help="comma-separated operations")
    args = parser.parse_args(argv)
    if args.code:
        sys.path.insert(0, str(args.code.resolve()))
    os.environ.update(dict(item.split("=", 1) for item in args.env))

    from bench.documents import document
    from bench.seed import insert_with_sql
    from devtools.postgres import Cluster

    cluster = Cluster(prefix="picus-bench-pg-")
    try:
        cluster.start({"PYTHONPATH": str(args.code.resolve())} if args.code else {})
        first, last = insert_with_sql(cluster.picus, 10_000)
        os.environ["DATABASE_URL"] = cluster.database_url
        from picus.app import create_app
        from picus.config import load_settings

        app = create_app(load_settings())
        print(f"picus from {Path(sys.modules['picus'].__file__ or '').parent}", flush=True)
        with app.test_client() as client:
            body = document(1)
            operations: dict[str, Callable[[int], object]] = {
                "get": lambda n: client.get(f"/picus/get/{first + n % 10_000}"),
                "page": lambda n: client.get(
                    f"/picus/list?limit=100&after={first - 1 + (n * 97) % 9_900}"
                ),
                "put": lambda n: client.post("/picus/put", json=body),
                "list": lambda n: client.get("/picus/list"),
            }
            only = {name for name in args.only.split(",") if name}
            for name, call in operations.items():
                if only and name not in only:
                    continue
                _check(name, call)
                costs = [_cost(call, REQUESTS[name]) for _ in range(REPEATS)]
                print(
                    f"{name:5} {statistics.median(costs):7.3f} CPU ms/request "
                    f"(runs: {', '.join(f'{c:.3f}' for c in costs)})",
                    flush=True,
                )
        del last
    finally:
        cluster.stop()
    return 0


def _check(name: str, call: Callable[[int], object]) -> None:
    response = call(0)
    status = getattr(response, "status_code", None)
    if status not in (200, 201):
        raise RuntimeError(f"{name} answered {status}: {getattr(response, 'text', '')[:300]}")
    for n in range(1, 50):  # warm caches and pools
        call(n)


def _cost(call: Callable[[int], object], count: int) -> float:
    started = time.process_time()
    for n in range(count):
        call(n)
    return 1000 * (time.process_time() - started) / count


if __name__ == "__main__":
    sys.exit(main())
