"""What the run was measured on: machine, load, software versions and commit."""

import os
import platform
import subprocess
from importlib import metadata
from typing import Any

import psutil

from bench.load import pgbench_binary
from devtools.paths import REPO

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
    """The CPU's model name (psutil has none): lscpu's on Linux, sysctl's on macOS."""
    if platform.system() == "Darwin":
        return _first_line(["sysctl", "-n", "machdep.cpu.brand_string"]) or "unknown"
    for line in (_output(["lscpu"]) or "").splitlines():
        if line.strip().startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total_mib() -> int:
    return int(psutil.virtual_memory().total) // (1024 * 1024)


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
    text = _output(command)
    return text.splitlines()[0] if text else None


def _output(command: list[str]) -> str | None:
    """What the command printed (stdout, else stderr), or None when it could not run."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603 (fixed tool, arguments built here)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout or done.stderr).strip() or None
