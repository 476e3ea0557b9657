"""Nginx in front of the app: the repository's template, rendered and run by devtools.nginx.

devtools/nginx.py renders nginx/templates/ the way the official image does and runs a
foreground Nginx under its own prefix, stopped by PID; the settings are docker-compose's,
pointed at loopback. One change for the benchmark: the per-address limits (writes 10 r/s,
reads 100 r/s and 64 connections in production) are raised, because every wrk request
comes from 127.0.0.1 and the point here is the proxy's cost, not the limiter's 429s.
"""

import contextlib
from pathlib import Path

from devtools.nginx import TEMPLATE, nginx_binary, nginx_environment, render
from devtools.nginx import Nginx as NginxProcess
from devtools.paths import REPO
from devtools.servers import free_port

BENCH_OVERRIDES = {
    "PICUS_WRITE_RATE": "1000000r/s",
    "PICUS_WRITE_BURST": "1000000",
    "PICUS_READ_RATE": "1000000r/s",
    "PICUS_READ_BURST": "1000000",
    "PICUS_CONN_PER_ADDRESS": "10000",
}


class Nginx:
    """The running proxy: its URL and how it was configured."""

    def __init__(self, url: str, settings: dict[str, str]) -> None:
        self.url = url
        self.settings = settings

    def describe(self) -> dict[str, object]:
        """For the results' metadata."""
        return {"url": self.url, "template": str(TEMPLATE.relative_to(REPO)), **self.settings}


def absent_reason() -> str | None:
    """Why Nginx cannot run here, or None when it can."""
    if not TEMPLATE.exists():
        return f"no {TEMPLATE.relative_to(REPO)} in the repository"
    if nginx_binary() is None:
        return "nginx is not installed (apt-get install nginx gettext-base)"
    return None


def start_in_front_of(
    upstream_port: int, workdir: Path, stack: contextlib.ExitStack
) -> Nginx | None:
    """Start Nginx proxying to the app on `upstream_port`; None (and why) when it cannot."""
    reason = absent_reason()
    if reason is not None:
        print(f"nginx: not run, {reason}", flush=True)
        return None
    port = free_port()
    environment = nginx_environment(port, upstream_port, **BENCH_OVERRIDES)
    prefix = workdir / "nginx"
    process = NginxProcess(render(environment), prefix, port)
    stack.callback(process.stop)
    process.start()
    return Nginx(process.url, BENCH_OVERRIDES)
