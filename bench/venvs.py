"""Virtual environments the benchmark serves from, each re-made only when its inputs change.

The development venv holds test tools (schemathesis, rich, Flask left behind, ...) that the
image never ships, and a server process imports some of them when present (httpx imports
rich): its memory would not be the product's. So Picus is served from a venv with exactly
requirements.txt (what the Dockerfile installs) plus the package itself, and the reference
peer from one with its own requirements.
"""

import hashlib
import subprocess
import sys
from pathlib import Path

INSTALL_SECONDS = 600


def ensure_venv(venv: Path, label: str, *installs: list[str]) -> Path:
    """`venv` with each of `installs` (pip install arguments) done; return its bin directory.

    A stamp holding a hash of the arguments and of the files they name makes the next run
    skip pip altogether.
    """
    digest = _digest(installs)
    stamp = venv / ".inputs-sha256"
    bin_dir = venv / "bin"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return bin_dir
    print(f"installing {label} into {venv}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)  # noqa: S603 (fixed tool, arguments built here)
    pip = [
        str(bin_dir / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]
    for arguments in installs:
        subprocess.run([*pip, *arguments], check=True, timeout=INSTALL_SECONDS)  # noqa: S603 (fixed tool, arguments built here)
    stamp.write_text(digest + "\n")
    return bin_dir


def _digest(installs: tuple[list[str], ...]) -> str:
    digest = hashlib.sha256()
    for arguments in installs:
        for argument in arguments:
            digest.update(argument.encode() + b"\0")
            path = Path(argument)
            if path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()
