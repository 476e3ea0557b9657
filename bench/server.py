"""The server under test: `picus serve --workers 2`, started and stopped by PID.

The tests' LiveServer, with a longer start-up allowance and a command that can be replaced
(`--app-command`), so a lever such as a uvicorn flag can be measured without editing code.
"""

from collections.abc import Mapping
from pathlib import Path

from tests.support.servers import LiveServer

WORKERS = 2
START_SECONDS = 60.0


def app_server(env: Mapping[str, str], log_path: Path, command: str | None = None) -> LiveServer:
    """A LiveServer for the benchmark; `{port}` and `{workers}` in `command` are filled in."""
    return LiveServer(
        env, workers=WORKERS, log_path=log_path, start_timeout=START_SECONDS, command=command
    )
