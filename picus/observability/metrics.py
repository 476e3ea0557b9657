"""The Prometheus metrics Picus exports, and the few calls that record them.

Under several uvicorn workers prometheus-client runs in multiprocess mode (`picus serve`
sets PROMETHEUS_MULTIPROC_DIR before any worker starts, see picus.observability.multiprocess):
counters and histograms add up over all workers, live or gone; gauges say how they combine
through `multiprocess_mode` ("livesum": the total over the workers running now).
"""

from prometheus_client import Counter, Gauge, Histogram

UNMATCHED = "unmatched"

REQUESTS = Counter(
    "picus_http_requests",
    "HTTP requests answered, by operation (operationId, or path template off the spec), "
    "method and status.",
    ["operation", "method", "status"],
)
REQUEST_DURATION = Histogram(
    "picus_http_request_duration_seconds",
    "Time from the request's arrival to the last byte of its answer.",
    ["operation", "method", "status"],
)
IN_PROGRESS = Gauge(
    "picus_http_requests_in_progress",
    "HTTP requests being handled now.",
    multiprocess_mode="livesum",
)
UNAVAILABLE = Counter(
    "picus_http_unavailable",
    "503 answers, by cause.",
    ["cause"],
)
DB_ERRORS = Counter(
    "picus_db_errors",
    "Errors raised by the database driver, by cause.",
    ["cause"],
)
DB_POOL_SIZE = Gauge(
    "picus_db_pool_size",
    "Connections each worker's pool may hold (PICUS_DB_POOL_SIZE), summed over the workers.",
    multiprocess_mode="livesum",
)
DB_POOL_CHECKED_OUT = Gauge(
    "picus_db_pool_checked_out",
    "Pool connections in use by a request now.",
    multiprocess_mode="livesum",
)
ITEMS_CREATED = Counter("picus_items_created", "Items stored.")
ITEMS_DELETED = Counter("picus_items_deleted", "Items deleted.")


def record_request(operation: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    labels = (operation, method, str(status))
    REQUESTS.labels(*labels).inc()
    REQUEST_DURATION.labels(*labels).observe(seconds)


def item_created() -> None:
    """Hook for handlers: an item was stored."""
    ITEMS_CREATED.inc()


def item_deleted() -> None:
    """Hook for handlers: an item was deleted."""
    ITEMS_DELETED.inc()
