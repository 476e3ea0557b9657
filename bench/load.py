"""The two load generators: wrk against HTTP, pgbench against PostgreSQL.

Both report the same figures (rate, p50/p99 latency, failures), so a scenario and its
physical-limit baseline sit side by side in one table.
"""

import json
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

WRK_DIR = Path(__file__).parent / "wrk"
PGBENCH_DIR = Path(__file__).parent / "pgbench"
WRK_THREADS = 2
PGBENCH_THREADS = 2
REQUEST_TIMEOUT_SECONDS = 5
# Keep about this many per-transaction pgbench log lines, whatever the rate.
PGBENCH_LOG_SAMPLES = 50_000


@dataclass(frozen=True)
class Rate:
    """What one load run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int

    @property
    def per_second(self) -> float:
        """Completed requests (or transactions) per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float]:
        """Plain numbers for the JSON output."""
        return {**asdict(self), "per_second": round(self.per_second, 1)}


def _wrk_command(
    url: str, script: str, args: list[str], connections: int, seconds: float
) -> list[str]:
    return [
        "wrk",
        f"--threads={min(WRK_THREADS, connections)}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={REQUEST_TIMEOUT_SECONDS}s",
        f"--script={script}",
        url,
        *args,
    ]


def start_wrk(
    url: str, script: str, args: list[str], connections: int, seconds: float
) -> subprocess.Popen[str]:
    """wrk in the background (stdout piped); stop it early with SIGINT to its PID."""
    command = _wrk_command(url, script, args, connections, seconds)
    return subprocess.Popen(command, cwd=WRK_DIR, stdout=subprocess.PIPE, text=True)  # noqa: S603 (fixed tool, arguments built here)


def wrk(url: str, script: str, args: list[str], connections: int, seconds: float) -> Rate:
    """Run wrk with bench/wrk/`script` for `seconds`; non-2xx and socket errors are failures."""
    command = _wrk_command(url, script, args, connections, seconds)
    done = subprocess.run(  # noqa: S603 (fixed tool, arguments built here)
        command,
        cwd=WRK_DIR,  # so `require("picus")` finds bench/wrk/picus.lua
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 2 * REQUEST_TIMEOUT_SECONDS + 10,
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    summary = json.loads(line.removeprefix("WRK_JSON "))
    errors = summary["errors"]
    return Rate(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        p50_ms=summary["latency_us"]["p50"] / 1000,
        p99_ms=summary["latency_us"]["p99"] / 1000,
        failed=sum(errors.values()),
    )


def pgbench(
    connection_args: list[str],
    scripts: dict[str, int],
    defines: dict[str, str],
    connections: int,
    seconds: float,
    expected_rate: float = 20_000,
) -> Rate:
    """Run pgbench -M prepared with bench/pgbench/ scripts (name -> weight) for `seconds`."""
    sampling = min(1.0, PGBENCH_LOG_SAMPLES / max(1.0, expected_rate * seconds))
    with tempfile.TemporaryDirectory(prefix="picus-pgbench-") as tmp:
        prefix = Path(tmp) / "log"
        command = [
            pgbench_binary(),
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={connections}",
            f"--jobs={min(PGBENCH_THREADS, connections)}",
            f"--time={max(1, round(seconds))}",
            "--log",
            f"--log-prefix={prefix}",
            f"--sampling-rate={sampling:.4f}",
        ]
        for name, weight in scripts.items():
            command.append(f"--file={PGBENCH_DIR / name}@{weight}")
        for key, value in defines.items():
            command.append(f"--define={key}={value}")
        command += connection_args
        done = subprocess.run(  # noqa: S603 (fixed tool, arguments built here)
            command,
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp,
            timeout=seconds + 60,
        )
        latencies_us = _pgbench_latencies(Path(tmp))
    return _pgbench_rate(done.stdout, latencies_us)


def pgbench_binary() -> str:
    """pgbench on PATH, else the newest PostgreSQL's (Debian keeps it off PATH)."""
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pgbench"), key=lambda p: int(p.parts[-3])
    )
    if not candidates:
        raise FileNotFoundError("pgbench not found (it comes with the PostgreSQL packages)")
    return str(candidates[-1])


def _pgbench_latencies(log_dir: Path) -> list[int]:
    """Per-transaction latencies (µs) from pgbench's logs: field 3 of each line."""
    latencies: list[int] = []
    for path in log_dir.glob("log.*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]))
    return latencies


def _pgbench_rate(stdout: str, latencies_us: list[int]) -> Rate:
    values: dict[str, str] = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(" = ")
        if not sep:
            key, sep, value = line.partition(": ")
        if sep:
            values[key.strip()] = value.strip()
    processed = int(values["number of transactions actually processed"].split()[0])
    failed = int(values.get("number of failed transactions", "0").split()[0])
    tps = float(values["tps"].split()[0])
    percentiles = _percentiles(latencies_us)
    return Rate(
        requests=processed,
        seconds=processed / tps if tps else 0.0,
        p50_ms=percentiles[0] / 1000,
        p99_ms=percentiles[1] / 1000,
        failed=failed,
    )


def _percentiles(values: list[int]) -> tuple[float, float]:
    """p50 and p99, or zeros when nothing was logged."""
    if len(values) < 2:
        return (float(values[0]), float(values[0])) if values else (0.0, 0.0)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]
