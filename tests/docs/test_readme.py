"""The README's curl tour, run as written against `picus serve` on the embedded default.

Every ```console block of README.md is a script: a line starting with `$ ` is a command,
the lines after it are what the README shows of its output. Each command runs in bash
(`set -euo pipefail`) with `localhost:8000` pointed at this test's server, and must exit 0
(28, curl's "time is up", when it passes `--max-time`); the lines the README shows must
appear in its output in that order. Timestamps and request ids differ from run to run and
are compared by their form only.
"""

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devtools.paths import REPO
from devtools.servers import LiveServer

README = REPO / "README.md"
COMMAND_TIMEOUT_S = 10.0
CURL_TIMED_OUT = 28  # curl's exit status when --max-time ends it
# Settings without the PICUS_ prefix (picus/config.py); the tour runs on the defaults.
UNPREFIXED_SETTINGS = frozenset({"DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"})
# What the README shows for values that differ from run to run, and their replacements.
VARIABLE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00"), "<time>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<request id>"),
]


@dataclass
class Step:
    """One command of the README and the output lines it shows (empty lines left out)."""

    command: str
    shown: list[str] = field(default_factory=list)


def console_steps(markdown: str) -> list[Step]:
    """The commands of every ```console block, in order, each with its shown output."""
    steps: list[Step] = []
    for block in re.findall(r"^```console\n(.*?)^```$", markdown, flags=re.M | re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append(Step(line[2:]))
            elif line.strip():
                assert steps, f"output before any command in a console block: {line!r}"
                steps[-1].shown.append(line)
    return steps


def normalised(line: str) -> str:
    line = line.rstrip("\r")
    for pattern, replacement in VARIABLE:
        line = pattern.sub(replacement, line)
    return line


def missing_lines(shown: list[str], output: str) -> list[str]:
    """The shown lines that do not appear in `output` in the README's order."""
    lines: Iterator[str] = iter(normalised(line) for line in output.splitlines())
    return [line for line in map(normalised, shown) if line not in lines]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """`picus serve` on a fresh SQLite file, as `make run` starts it (no keys, defaults)."""
    live = LiveServer({}, log_path=tmp_path / "server.log")
    live.env = {
        name: value
        for name, value in live.env.items()
        if not name.startswith("PICUS_") and name not in UNPREFIXED_SETTINGS
    }
    live.env["PICUS_SQLITE_PATH"] = str(tmp_path / "picus.sqlite3")
    with live:
        yield live


def test_the_readme_has_a_tour_to_run() -> None:
    steps = console_steps(README.read_text(encoding="utf-8"))
    commands = " ".join(step.command for step in steps)
    for part in ["-X PATCH", "/picus/changes", "curl -sN", "text/event-stream", "-X DELETE"]:
        assert part in commands, part
    assert all("localhost:8000" in step.command for step in steps)


def test_the_curl_tour_runs_as_written(server: LiveServer) -> None:
    host = server.url.removeprefix("http://")
    for step in console_steps(README.read_text(encoding="utf-8")):
        command = step.command.replace("localhost:8000", host)
        ran = subprocess.run(
            ["bash", "-c", f"set -euo pipefail\n{command}"],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        allowed = {0, CURL_TIMED_OUT} if "--max-time" in command else {0}
        assert ran.returncode in allowed, (step.command, ran.returncode, ran.stderr)
        missing = missing_lines(step.shown, ran.stdout)
        assert not missing, f"{step.command}\nnot in its output: {missing}\n{ran.stdout}"


def test_lines_are_matched_in_order_and_by_the_form_of_what_varies() -> None:
    output = 'HTTP/1.1 200 OK\r\netag: "2"\r\n\r\n{"at":"2026-01-02T03:04:05.5+00:00"}\n'
    assert missing_lines(['etag: "2"', '{"at":"2026-12-01T17:18:47.13603+00:00"}'], output) == []
    assert missing_lines(['etag: "2"', "HTTP/1.1 200 OK"], output) == ["HTTP/1.1 200 OK"]
    assert missing_lines(['etag: "3"'], output) == ['etag: "3"']
