"""GET /metrics: the Prometheus exposition, aggregated over every worker in multiprocess mode."""

import os
import struct
import time
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, values
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response

from picus.library_internals import collector_directory
from picus.observability.multiprocess import forget_dead_workers

# Decided once, as prometheus-client decided where this process's values live (in memory,
# or in files) when it was first imported; the environment may change later.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
if values.ValueClass is values.MutexValue:
    MULTIPROCESS_DIR = None


# A worker creates a metric file empty and sizes it a moment later; a dead worker's live
# gauge files are deleted by whichever scrape notices. A scrape that meets either mid-way
# reads the directory again instead of failing with a 500.
_SCRAPE_ATTEMPTS = 3


class SettledFilesCollector(MultiProcessCollector):
    """prometheus-client's multiprocess collector, tolerant of files appearing or vanishing."""

    def collect(self) -> Iterable[Metric]:
        for attempt in range(_SCRAPE_ATTEMPTS):
            directory = Path(collector_directory(self))
            files = [str(f) for f in directory.glob("*.db") if _settled(f)]
            try:
                return self.merge(files, accumulate=True)  # type: ignore[no-untyped-call,no-any-return]
            except (OSError, struct.error):
                if attempt == _SCRAPE_ATTEMPTS - 1:
                    raise
                time.sleep(0.01)
        raise AssertionError("unreachable")


def _settled(path: Path) -> bool:
    """A file holds at least its 8-byte header (an empty one is still being created)."""
    try:
        return path.stat().st_size >= 8
    except OSError:
        return False


async def serve_metrics(request: Request) -> Response:
    """GET /metrics: all metrics, in the format the scraper's Accept header asks for.

    Reading the files of a few workers takes well under a millisecond: no thread needed.
    """
    if MULTIPROCESS_DIR is not None:
        # A fresh registry per scrape, as prometheus-client's multiprocess guide shows:
        # the collector reads every worker's files each time.
        forget_dead_workers(Path(MULTIPROCESS_DIR))
        registry = CollectorRegistry()
        SettledFilesCollector(registry, path=MULTIPROCESS_DIR)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encoder(registry), 200, headers={"Content-Type": content_type})
