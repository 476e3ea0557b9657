"""Where a request's CPU time goes: py-spy on the server's process tree, summarised.

py-spy samples only threads holding the GIL (`--gil`), so the profile shows Python CPU
time, not threads waiting for PostgreSQL. `--format raw` writes collapsed stacks
("frame;frame;... count"); the summary gives each function's inclusive share (counted once
per stack), each package's, and the busiest innermost frames.
"""

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

PY_SPY_RATE = 100
# A frame looks like "function (path/to/module.py:123)".
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]+)(?::\d+)?\)$")
_PACKAGES = (
    "picus",
    "connexion",
    "starlette",
    "a2wsgi",
    "flask",
    "werkzeug",
    "jsonschema",
    "sqlalchemy",
    "psycopg2",
    "uvicorn",
    "httptools",
    "json",
    "logging",
    "asyncio",
    "concurrent",
    "threading",
)


def py_spy() -> str:
    """The py-spy executable, or an explanation of how to get it."""
    found = shutil.which("py-spy") or str(Path(__import__("sys").executable).with_name("py-spy"))
    if not Path(found).exists():
        raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
    return found


def start(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Begin sampling `pid` and its children for `seconds` (ends by itself)."""
    command = [
        py_spy(),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--gil",
        f"--rate={PY_SPY_RATE}",
        f"--duration={max(1, round(seconds))}",
        "--format=raw",
        f"--output={output}",
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603 (fixed tool, arguments built here)


def summarise(raw: Path, top: int = 25) -> str:
    """Inclusive share per package and the busiest innermost frames, as text."""
    total = 0
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    by_leaf: Counter[str] = Counter()
    by_layer: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        by_package.update(dict.fromkeys(_packages(frames), count))
        by_function.update(dict.fromkeys({_short(f) for f in frames if _FRAME.match(f)}, count))
        by_leaf[_short(frames[-1])] += count
        by_layer[_stack_layer(frames)] += count
    if not total:
        return "no samples\n"
    lines = [f"{total} samples at {PY_SPY_RATE} Hz", "", "self time by layer:"]
    for layer, count in by_layer.most_common():
        lines.append(f"  {100 * count / total:5.1f}%  {layer}")
    lines += ["", "inclusive share by package:"]
    for package, count in by_package.most_common():
        lines.append(f"  {100 * count / total:5.1f}%  {package}")
    lines += ["", f"top {3 * top} functions (inclusive):"]
    for function, count in by_function.most_common(3 * top):
        lines.append(f"  {100 * count / total:5.1f}%  {function}")
    lines += ["", f"top {top} innermost frames (self time):"]
    for frame, count in by_leaf.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}%  {frame}")
    return "\n".join(lines) + "\n"


# Self time is attributed to the layer of the innermost frame; first match wins.
_LAYERS = (
    ("database: SQLAlchemy, psycopg2, picus.storage", ("sqlalchemy", "psycopg2", "picus/storage")),
    (
        "observability: logs, metrics, request ids",
        ("picus/observability", "prometheus_client", "structlog", "logging/", "uuid.py"),
    ),
    ("request validation: jsonschema, Connexion validators", ("jsonschema", "validators")),
    ("Connexion middleware and decorators", ("connexion",)),
    ("Starlette", ("starlette",)),
    (
        "WSGI bridge and thread hand-offs: a2wsgi, futures, locks",
        ("a2wsgi", "concurrent/futures", "threading.py", "asyncio/futures.py"),
    ),
    ("Flask and Werkzeug", ("flask", "werkzeug")),
    ("uvicorn, httptools and the event loop", ("uvicorn", "httptools", "asyncio", "uvloop")),
    ("json", ("json/",)),
    ("picus: handlers, body, guards", ("picus/",)),
)


def layer_of(frame: str) -> str:
    """The layer a frame's file belongs to (see _LAYERS), or "other"."""
    match = _FRAME.match(frame)
    if not match:
        return "other"
    for name, needles in _LAYERS:
        if any(needle in match["file"] for needle in needles):
            return name
    return "other"


def _stack_layer(frames: list[str]) -> str:
    """The innermost frame's layer; a generic stdlib frame (os, re, typing...) counts for
    the nearest caller that belongs to a layer."""
    for frame in reversed(frames):
        layer = layer_of(frame)
        if layer != "other":
            return layer
    return "other"


def _packages(frames: list[str]) -> set[str]:
    found = set()
    for frame in frames:
        match = _FRAME.match(frame)
        if match:
            found.add(_package(match["file"]))
    return found


def _package(path: str) -> str:
    parts = Path(path).parts
    for name in _PACKAGES:
        if name in parts or Path(path).stem == name:
            return name
    return (
        "site-packages:" + parts[parts.index("site-packages") + 1]
        if ("site-packages" in parts and parts.index("site-packages") + 1 < len(parts))
        else "stdlib/other"
    )


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    parts = Path(match["file"]).parts
    tail = "/".join(parts[-2:])
    return f"{match['func']} ({tail})"
