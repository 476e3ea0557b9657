"""Resident memory of a server's whole process tree, sampled from /proc in the background.

`picus serve --workers N` is a uvicorn supervisor plus N worker processes (and whatever
they start); the figure that matters to an operator is the sum of their RSS.
"""

import threading
import time
from pathlib import Path

PROC = Path("/proc")
MIB = 1024 * 1024
SAMPLE_SECONDS = 0.05
# Workers do not come and go during a run; re-reading the tree once a second is enough.
REDISCOVER_SECONDS = 1.0


def _children() -> dict[int, list[int]]:
    """Every process's children, from each process's parent id in /proc."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses; fields after it do not.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """`root` and every descendant of it, found through each process's parent id."""
    children = _children()
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def worker_rss(root: int) -> dict[int, int]:
    """VmRSS in bytes of each worker: each child of `root` (uvicorn's supervisor) but
    multiprocessing's resource tracker, a helper that serves no request.

    The per-worker figure is what a memory limit per worker (or the number of workers a
    machine can hold) is set from; the tree's sum hides which process grew.
    """
    workers = {}
    for pid in _children().get(root, []):
        try:
            command = (PROC / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:
            workers[pid] = rss_bytes([pid])
    return workers


def rss_bytes(pids: list[int]) -> int:
    """The summed resident set size of `pids` (processes that have gone count as 0)."""
    total = 0
    for pid in pids:
        try:
            status = (PROC / str(pid) / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
                break
    return total


class TreeSampler:
    """Samples the tree's RSS every SAMPLE_SECONDS until stopped; answers peak-in-window."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> "TreeSampler":
        """Begin sampling in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """End sampling."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        pids: list[int] = []
        discovered = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now - discovered >= REDISCOVER_SECONDS:
                pids, discovered = process_tree(self.root), now
            self.samples.append((now, rss_bytes(pids)))
            self._stop.wait(SAMPLE_SECONDS)

    def now(self) -> int:
        """The tree's RSS right now, in bytes."""
        return rss_bytes(process_tree(self.root))

    def peak(self, since: float, until: float | None = None) -> int:
        """The largest sample taken between two `time.monotonic()` instants, in bytes."""
        end = until if until is not None else float("inf")
        window = [rss for at, rss in list(self.samples) if since <= at <= end]
        return max(window, default=self.now())
