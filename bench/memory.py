"""Resident memory of a server's whole process tree, sampled in the background.

`picus serve --workers N` is a uvicorn supervisor plus N worker processes (and whatever
they start); the figure that matters to an operator is the sum of their RSS. The processes
are found and measured through devtools.processes (psutil).
"""

import threading
import time

from devtools.processes import process_tree, rss_bytes, uvicorn_workers

MIB = 1024 * 1024
SAMPLE_SECONDS = 0.05
# Workers do not come and go during a run; re-reading the tree once a second is enough.
REDISCOVER_SECONDS = 1.0


def worker_rss(root: int) -> dict[int, int]:
    """RSS in bytes of each worker: each child of `root` (uvicorn's supervisor) but
    multiprocessing's resource tracker, a helper that serves no request.

    The per-worker figure is what a memory limit per worker (or the number of workers a
    machine can hold) is set from; the tree's sum hides which process grew.
    """
    return {pid: rss_bytes([pid]) for pid in uvicorn_workers(root)}


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
