"""Nginx in front of the app: the project's template, rendered and run by devtools/nginx.py.

Two soak-specific choices, both on top of that helper rather than beside it:
- the main nginx.conf gets the official image's process and connection limits
  (`worker_processes auto`, `worker_connections 1024`) instead of the e2e test's small ones,
  because the soak's 500-connection burst is exactly what those limits are about;
- the per-address limits (writes, reads, requests in progress) are raised far above the
  load, so every answer the soak judges comes from Picus (a 429 would be Nginx doing its
  job, not a fault being survived): all the soak's clients share one address.
"""

import contextlib
import json
import signal
import time
from pathlib import Path

from devtools.nginx import Nginx, nginx_environment, render
from devtools.processes import children
from devtools.servers import free_port
from soak.processes import wait_for

# /etc/nginx/nginx.conf of the official image (docker.io/library/nginx).
IMAGE_WORKER_PROCESSES = "worker_processes auto;"
IMAGE_WORKER_CONNECTIONS = "worker_connections 1024;"
SOAK_OVERRIDES = {
    "PICUS_WRITE_RATE": "100000r/s",
    "PICUS_WRITE_BURST": "100000",
    "PICUS_READ_RATE": "100000r/s",
    "PICUS_READ_BURST": "100000",
    "PICUS_CONN_PER_ADDRESS": "60000",  # Nginx caps it below 65536
    "PICUS_PROXY_TIMEOUT": "30s",
}
RELOAD_SECONDS = 15.0


class SoakNginx(Nginx):
    """The e2e helper's Nginx with the image's limits, and a graceful reload."""

    def _write_files(self) -> Path:
        conf = super()._write_files()
        text = conf.read_text(encoding="utf-8")
        patched = text.replace("worker_processes 1;", IMAGE_WORKER_PROCESSES).replace(
            "worker_connections 256;", IMAGE_WORKER_CONNECTIONS
        )
        if IMAGE_WORKER_PROCESSES not in patched or IMAGE_WORKER_CONNECTIONS not in patched:
            raise RuntimeError(f"{conf}: cannot set the image's worker limits; the helper changed")
        conf.write_text(patched, encoding="utf-8")
        return conf

    @property
    def master_pid(self) -> int:
        """The master process (started in the foreground, so it is the Popen's own PID)."""
        assert self.process is not None, "nginx is not running"
        return self.process.pid

    def reload(self) -> float:
        """SIGHUP the master; wait until every old worker has finished. Return the seconds."""
        old_workers = set(children(self.master_pid))
        started = time.monotonic()
        self.process.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
        wait_for(
            "nginx reload: old workers gone, new ones up",
            lambda: _reloaded(self.master_pid, old_workers),
            RELOAD_SECONDS,
        )
        return time.monotonic() - started


def upstream_statuses(access_log: Path) -> dict[str, str]:
    """X-Request-ID -> the `upstream_status` Nginx logged (e.g. "502, 404" for a retry)."""
    statuses: dict[str, str] = {}
    for line in access_log.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            statuses[str(entry["request_id"])] = str(entry["upstream_status"])
    return statuses


def _reloaded(master_pid: int, old_workers: set[int]) -> bool:
    current = set(children(master_pid))
    return bool(current) and not current & old_workers


def start_nginx(upstream_port: int, prefix: Path) -> SoakNginx:
    """Render the template for loopback (compose's settings plus the soak's) and start Nginx."""
    port = free_port()
    site_conf = render(nginx_environment(port, upstream_port, **SOAK_OVERRIDES))
    nginx = SoakNginx(site_conf, prefix, port)
    nginx.start()
    return nginx
