"""Database metrics: the pool gauges and driver errors by cause, as storage reports them.

Storage stays free of HTTP and of metrics: it reports to a PoolObserver
(picus.storage.database), and this module is the one that counts. The 503 cause is the
one storage put on StorageUnavailable.
"""

import logging

from picus.errors import StorageUnavailable
from picus.observability import metrics

logger = logging.getLogger("picus.database")


class PoolMetrics:
    """Keeps the pool gauges and the error counter current (a storage PoolObserver)."""

    def pool_size(self, size: int) -> None:
        metrics.DB_POOL_SIZE.set(size)

    def checked_out(self, delta: int) -> None:
        metrics.DB_POOL_CHECKED_OUT.inc(delta)

    def error(self, cause: str) -> None:
        metrics.DB_ERRORS.labels(cause).inc()


def record_unavailable(exc: StorageUnavailable) -> None:
    """Hook for the 503 handler: count the answer by cause and say why in the log."""
    metrics.UNAVAILABLE.labels(exc.cause).inc()
    logger.warning("database unavailable: %s", exc, extra={"cause": exc.cause})
