"""Process trees seen through /proc: the workers of a supervisor, by their parent's PID.

Linux only (the soak's machine and CI); the soak signals nothing it did not start.
"""

import time
from collections.abc import Callable
from pathlib import Path

PROC = Path("/proc")


def children(pid: int) -> list[int]:
    """PIDs whose parent is `pid` (every thread's list: a child may come from any thread)."""
    found: set[int] = set()
    for listing in PROC.glob(f"{pid}/task/*/children"):
        try:
            found.update(int(word) for word in listing.read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return sorted(found)


def command_line(pid: int) -> str:
    """The process's argv joined by spaces, or "" once it has gone."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def is_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in {"Z", "X"}


def uvicorn_workers(supervisor_pid: int) -> list[int]:
    """uvicorn's worker processes: spawned children (not multiprocessing's resource tracker)."""
    return [
        pid
        for pid in children(supervisor_pid)
        if "multiprocessing.spawn" in command_line(pid) and is_running(pid)
    ]


def wait_for(
    condition_name: str, check: Callable[[], bool], timeout: float, poll: float = 0.05
) -> float:
    """Poll `check` until true; return the seconds it took, or raise TimeoutError."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{condition_name}: not within {timeout:.0f} s")
        time.sleep(poll)
    return time.monotonic() - started
