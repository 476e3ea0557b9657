"""The reference peer: the hand-written FastAPI + asyncpg service every run compares with.

Targets are set relative to it ("at least half its get rate") because on two shared cores
only figures from the same run, on the same machine and the same PostgreSQL, compare. It
lives outside the repository (../shared/peers/fastapi_asyncpg, read-only); its
requirements are installed once into bench/.peer-venv (git-ignored) and re-installed when
its requirements.txt changes. Its schema is also a table `items`, so it gets its own
database in the run's cluster, and is served as its README says: `uvicorn app:app
--workers 2 --no-access-log`, stopped by PID like Picus.
"""

import json
import os
import shlex
import subprocess
from pathlib import Path

from bench import venvs
from bench.server import START_SECONDS, WORKERS
from devtools.paths import REPO
from devtools.postgres import Cluster, Database
from devtools.servers import LiveServer

PEER_DIR = REPO.parent / "shared" / "peers" / "fastapi_asyncpg"
VENV = Path(__file__).parent / ".peer-venv"
DATABASE = "reference"
PACKAGES = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "asyncpg")


def absent_reason(peer_dir: Path) -> str | None:
    """Why the peer cannot run from `peer_dir`, or None when it can."""
    for name in ("app.py", "migrate.py", "requirements.txt"):
        if not (peer_dir / name).is_file():
            return f"no {name} in {peer_dir}"
    return None


def ensure_venv(peer_dir: Path) -> Path:
    """bench/.peer-venv with the peer's requirements; return its bin directory."""
    requirements = str(peer_dir / "requirements.txt")
    return venvs.ensure_venv(VENV, "the reference peer's requirements", ["-r", requirements])


def versions(bin_dir: Path) -> dict[str, str | None]:
    """The installed versions of the packages that decide the peer's speed."""
    script = (
        "import json, importlib.metadata as m\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        f"print(json.dumps({{n: v(n) for n in {PACKAGES!r}}}))"
    )
    done = subprocess.run(  # noqa: S603 (fixed tool, arguments built here)
        [str(bin_dir / "python"), "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found: dict[str, str | None] = json.loads(done.stdout)
    return found


def prepare(cluster: Cluster, peer_dir: Path, bin_dir: Path) -> Database:
    """The peer's own database in `cluster`, with the schema its migrate.py creates."""
    database = cluster.create_database(DATABASE)
    subprocess.run(  # noqa: S603 (fixed tool, arguments built here)
        [str(bin_dir / "python"), "migrate.py"],
        cwd=peer_dir,  # migrate.py imports app.py from its own folder
        env=_environment(database),
        check=True,
        timeout=60,
    )
    return database


def server(database: Database, peer_dir: Path, bin_dir: Path, log_path: Path) -> LiveServer:
    """A LiveServer running the peer under uvicorn with WORKERS workers on a free port.

    LiveServer waits for /healthz to answer at all; the peer answers it 404 once serving.
    """
    command = (
        f"{_literal(bin_dir / 'uvicorn')} app:app --app-dir {_literal(peer_dir)} "
        "--host 127.0.0.1 --port {port} --workers {workers} --no-access-log"
    )
    return LiveServer(
        _environment(database),
        workers=WORKERS,
        log_path=log_path,
        start_timeout=START_SECONDS,
        command=command,
    )


def _literal(path: Path) -> str:
    """`path` as one shell word that survives LiveServer's str.format."""
    return shlex.quote(str(path)).replace("{", "{{").replace("}", "}}")


def _environment(database: Database) -> dict[str, str]:
    """The peer's environment: its database, and no bytecode written to its read-only folder."""
    return {**os.environ, "DATABASE_URL": database.database_url, "PYTHONDONTWRITEBYTECODE": "1"}
