"""prometheus-client's multiprocess directory: chosen and emptied before any worker starts.

Importing nothing from prometheus-client on purpose: it decides between in-memory and
file-backed metric values when first imported, so the directory must be in the
environment before that happens in any process.
"""

import os
import tempfile
from pathlib import Path

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
