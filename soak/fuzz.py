"""`python -m soak.fuzz`: schemathesis with many examples against a real `picus serve`.

The contract test in `make test` runs 25 examples per operation in-process; this is the
long run for `make fuzz` and the scheduled CI job: the same schemathesis.toml (every check,
every phase, positive and negative data), 2,000 examples per operation by default, over
HTTP against `picus serve --workers 2` on a throwaway PostgreSQL, with the app validating
its own responses. Any 5xx is a bug. A JUnit report and the server log go to the work
directory (NDJSON would be about 150 MB); the console output has a curl line and the seed
to reproduce each failure.
"""

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from devtools.paths import REPO
from devtools.postgres import Cluster
from devtools.servers import LiveServer
from soak.run import START_SECONDS

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = REPO / "schemathesis.toml"


def schemathesis_command(
    spec_url: str, max_examples: int, report_dir: Path, seed: int | None
) -> list[str]:
    """The CLI run: the project's settings, with only the number of examples raised."""
    command = [str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", spec_url]
    command += ["--max-examples", str(max_examples), "--mode", "all", "--checks", "all"]
    command += ["--workers", "1", "--request-timeout", "30", "--continue-on-failure", "--no-color"]
    command += ["--report", "junit", "--report-dir", str(report_dir)]
    command += ["--generation-database", "none"]
    if seed is not None:
        command += ["--seed", str(seed)]
    return command


def main(argv: Sequence[str] | None = None) -> int:
    """Start PostgreSQL and the app, run schemathesis, stop both; schemathesis's exit status."""
    parser = argparse.ArgumentParser(prog="python -m soak.fuzz", description=__doc__)
    parser.add_argument("--max-examples", type=int, default=2000, help="per operation (2000)")
    parser.add_argument("--seed", type=int, help="reproduce an earlier run")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("var") / "fuzz" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        help="logs and reports (var/fuzz/<time>)",
    )
    args = parser.parse_args(argv)
    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        postgres = Cluster(workdir, prefix="picus-soak-pg-")
        stack.callback(postgres.stop)
        postgres.start()
        env = {"DATABASE_URL": postgres.database_url, "PICUS_VALIDATE_RESPONSES": "true"}
        app = LiveServer(env, workers=2, log_path=workdir / "app.log", start_timeout=START_SECONDS)
        stack.callback(app.stop)  # also when start() times out: the process is ours to stop
        app.start()
        command = schemathesis_command(
            f"{app.url}/picus/openapi.json", args.max_examples, workdir / "report", args.seed
        )
        print("$", " ".join(command), flush=True)
        status = subprocess.run(  # noqa: S603 - our own command, no shell
            command, cwd=REPO, env={**os.environ, "NO_COLOR": "1"}, check=False
        ).returncode
    print(f"Logs and reports: {workdir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
