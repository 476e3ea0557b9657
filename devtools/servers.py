"""Run `picus serve` for real, on a loopback port, the way an operator would.

Used by tests, bench and soak wherever a real server process is needed (uvicorn, workers,
signals, Nginx in front).
Processes are stopped by their own PID, never by name.
"""

import os
import shlex
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Self

import httpx

from devtools.paths import PICUS, REPO
from devtools.processes import Started, stop_process


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(
    url: str, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll `url` until it answers at all (any status), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing answered at {url} within {timeout} s")


class LiveServer(Started):
    """`picus serve` in a subprocess; a context manager that starts and stops it."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        workers: int = 1,
        port: int | None = None,
        log_path: Path | None = None,
        start_timeout: float = 20.0,
        command: str | None = None,
    ) -> None:
        """`command` replaces `picus serve ...` (the benchmark measures levers with it);
        `{port}` and `{workers}` in it are filled in."""
        self.port = port or free_port()
        self.command = command
        self.start_timeout = start_timeout
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        """Start the server and wait until /healthz answers."""
        if self.command:
            command = shlex.split(self.command.format(port=self.port, workers=self.workers))
        else:
            command = [str(PICUS), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            command += ["--workers", str(self.workers)]
        output = self.log_path.open("wb") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            command, env=self.env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            wait_until_serving(f"{self.url}/healthz", self.start_timeout, self.process)
        except BaseException:
            self.stop()  # `with` never calls __exit__ when __enter__ fails: no orphan server
            raise
        return self

    @property
    def pid(self) -> int:
        """The root of the server's process tree (uvicorn's supervisor with workers)."""
        assert self.process is not None, "the server is not running"
        return self.process.pid

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM the server (by PID), wait for it, and return its exit status."""
        if self.process is None:
            return 0
        return stop_process(self.process, timeout)
