"""The servers under test: `picus serve --workers 2`, and the reference peer, by PID.

The tests' LiveServer, with a longer start-up allowance and a command that can be replaced
(`--app-command`), so a lever such as a uvicorn flag can be measured without editing code.
A Service bundles what each measurement needs about one of them: where it answers, the
root of its process tree (for CPU and memory), and the database it serves.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench import venvs
from bench.memory import TreeSampler
from devtools.paths import REPO
from devtools.postgres import Database
from devtools.servers import LiveServer

WORKERS = 2
START_SECONDS = 60.0


RUNTIME_VENV = Path(__file__).parent / ".runtime-venv"


def runtime_picus() -> Path:
    """`picus` from a venv with only what the image ships (requirements.txt + Picus)."""
    bin_dir = venvs.ensure_venv(
        RUNTIME_VENV,
        "Picus with its runtime requirements only",
        ["--require-hashes", "-r", str(REPO / "requirements.txt")],
        ["--no-deps", "-e", str(REPO)],
    )
    return bin_dir / "picus"


def app_server(
    env: Mapping[str, str], log_path: Path, command: str | None = None, workers: int = WORKERS
) -> LiveServer:
    """A LiveServer for the benchmark; `{port}` and `{workers}` in `command` are filled in.

    Without a `command`, Picus is served from the runtime-only venv (see bench.venvs).
    """
    if command is None:
        picus = str(runtime_picus()).replace("{", "{{").replace("}", "}}")
        command = f"{picus} serve --host 127.0.0.1 --port {{port}} --workers {{workers}}"
    return LiveServer(
        env, workers=workers, log_path=log_path, start_timeout=START_SECONDS, command=command
    )


@dataclass(frozen=True)
class Service:
    """One running HTTP service: `name` is "picus" or "reference"."""

    name: str
    server: LiveServer
    db: Database
    sampler: TreeSampler

    @property
    def url(self) -> str:
        """Its base URL, direct (no proxy)."""
        return self.server.url

    @property
    def pid(self) -> int:
        """The root of its process tree (uvicorn's supervisor)."""
        return self.server.pid
