"""The server under test, `picus serve --workers 2`, started and stopped by PID.

Like tests/support/servers.LiveServer, but the command can be replaced (`--app-command`)
so a lever such as a uvicorn flag can be measured against the default without editing code.
"""

import os
import shlex
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.support.servers import PICUS, REPO, free_port, wait_until_serving

WORKERS = 2
STOP_SECONDS = 20.0


def default_command(port: int) -> list[str]:
    """What an operator runs: `picus serve` on loopback with two workers."""
    address = ["--host", "127.0.0.1", "--port", str(port)]
    return [str(PICUS), "serve", *address, "--workers", str(WORKERS)]


class AppServer:
    """A server process tree rooted at one PID; `{port}` in a custom command is filled in."""

    def __init__(self, env: Mapping[str, str], log_path: Path, command: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if command:
            self.command = shlex.split(command.format(port=self.port, workers=WORKERS))
        else:
            self.command = default_command(self.port)
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The root of the server's process tree."""
        assert self.process is not None, "the server is not running"
        return self.process.pid

    def start(self) -> None:
        """Start the server and wait until /healthz answers."""
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 (fixed tool, arguments built here)
                self.command, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until_serving(f"{self.url}/healthz", timeout=60, process=self.process)

    def stop(self) -> None:
        """SIGTERM the root PID (uvicorn stops its workers), then wait; SIGKILL if stuck."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
