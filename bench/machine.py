"""What the run was measured on: machine, load, software versions and commit."""

import contextlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.load import pgbench_binary
from tests.support.servers import REPO

PACKAGES: tuple[str, ...] = ("connexion", "uvicorn", "starlette", "flask", "sqlalchemy")
PACKAGES += ("psycopg2-binary", "asyncpg", "uvloop", "httptools")


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def describe() -> dict[str, Any]:
    """A JSON-ready description of this machine and checkout."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_mib": _mem_total_mib(),
        "kernel": platform.release(),
        "os": _os_name(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "tools": {
            "postgresql": _first_line([pgbench_binary(), "--version"]),
            "wrk": _first_line(["wrk", "--version"]),
            "nginx": _first_line(["nginx", "-v"]),
        },
        "commit": _first_line(["git", "-C", str(REPO), "describe", "--always", "--dirty"]),
        "commit_sha": _first_line(["git", "-C", str(REPO), "rev-parse", "HEAD"]),
        "commit_subject": _first_line(["git", "-C", str(REPO), "log", "-1", "--format=%s"]),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total_mib() -> int:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 0


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "unknown")
    except OSError:
        return "unknown"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _first_line(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603 (fixed tool, arguments built here)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else None
