"""prometheus-client's multiprocess directory: chosen and emptied before any worker starts.

Importing nothing from prometheus-client on purpose: it decides between in-memory and
file-backed metric values when first imported, so the directory must be in the
environment before that happens in any process.
"""

import os
import tempfile
from pathlib import Path

from picus.library_internals import LIVE_GAUGE_FILE

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir(configured: Path | None) -> tuple[Path, bool]:
    """Point this process and its future workers at an empty metrics directory.

    Returns the directory and whether Picus created it (and so should remove it on exit).
    A configured directory is kept but emptied of metric files left by an earlier run,
    which would otherwise be added to this run's counters.
    """
    if configured is None:
        path, created = Path(tempfile.mkdtemp(prefix="picus-metrics-")), True
    else:
        path, created = configured, False
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    os.environ[ENV] = str(path)
    return path, created


def forget_this_worker() -> None:
    """Drop this process's live gauges (in progress, pool) from the aggregate as it stops."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def forget_dead_workers(path: Path) -> None:
    """Drop the live gauges of workers that died without stopping (killed, crashed).

    A worker that stops normally does this itself; uvicorn replaces a killed one without
    telling anyone, so the scrape does it: a PID that no longer exists has no live values.
    """
    pids = {
        int(m.group(1))
        for f in path.glob("gauge_live*.db")
        if (m := LIVE_GAUGE_FILE.fullmatch(f.name))
    }
    from prometheus_client import multiprocess

    for pid in pids:
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
