"""GET /metrics: the Prometheus exposition, aggregated over every worker in multiprocess mode."""

import os

from flask import Response, request
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector


def metrics() -> Response:
    """Serve all metrics in the format the scraper's Accept header asks for."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # A fresh registry per scrape, as prometheus-client's multiprocess guide shows:
        # the collector reads every worker's files each time.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encoder(registry), 200, content_type=content_type)
