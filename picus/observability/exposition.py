"""GET /metrics: the Prometheus exposition, aggregated over every worker in multiprocess mode."""

import os
from pathlib import Path

from flask import Response, request
from prometheus_client import REGISTRY, CollectorRegistry, values
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from picus.observability.multiprocess import forget_dead_workers

# Decided once, as prometheus-client decided where this process's values live (in memory,
# or in files) when it was first imported; the environment may change later.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
if values.ValueClass is values.MutexValue:
    MULTIPROCESS_DIR = None


def metrics() -> Response:
    """Serve all metrics in the format the scraper's Accept header asks for."""
    if MULTIPROCESS_DIR is not None:
        # A fresh registry per scrape, as prometheus-client's multiprocess guide shows:
        # the collector reads every worker's files each time.
        forget_dead_workers(Path(MULTIPROCESS_DIR))
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=MULTIPROCESS_DIR)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encoder(registry), 200, content_type=content_type)
