"""`python -m soak`: run the soak and print its tables; exit status 1 if a promise broke."""

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from soak.report import report
from soak.run import SoakConfig, run_soak


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, run, print the report (and where the logs are)."""
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--clients", type=int, default=6, help="client threads (6)")
    parser.add_argument("--burst", type=int, default=500, help="connections in the burst (500)")
    parser.add_argument(
        "--database-down", type=float, default=3.0, help="seconds PostgreSQL stays stopped (3)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("var") / "soak" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        help="logs of PostgreSQL, the app and Nginx (var/soak/<time>)",
    )
    parser.add_argument(
        "--pgbouncer",
        action="store_true",
        help="the app's queries through PgBouncer (deploy/pgbouncer/pgbouncer.ini), as in Compose",
    )
    args = parser.parse_args(argv)
    config = SoakConfig(
        workdir=args.workdir.resolve(),
        duration=args.duration,
        clients=args.clients,
        burst_connections=args.burst,
        database_down=args.database_down,
        pgbouncer=args.pgbouncer,
    )
    result = run_soak(config)
    print(report(result))
    print(f"\nLogs: {config.workdir}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
