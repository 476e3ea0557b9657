"""Start and stop of `picus serve`: logging set up, metrics directory ready, the lines said."""

import logging
import logging.config
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import URL

from picus import __version__
from picus.config import Settings
from picus.observability.log_config import choose_format, logging_config
from picus.observability.multiprocess import ENV, prepare_metrics_dir

logger = logging.getLogger("picus")

# uvicorn kills a worker that does not answer its supervisor's ping in time (default 5 s),
# and a worker still importing on a busy two-core machine took longer than that: it was
# killed and restarted in a loop. Not much longer, though: the supervisor also waits this
# long on a ping to a worker that died just after it was sent, before replacing it.
WORKER_HEALTHCHECK_S = 10

_SECRET_QUERY_KEYS = frozenset({"password", "sslpassword"})


@contextmanager
def operated(settings: Settings, host: str, port: int, workers: int) -> Iterator[dict[str, Any]]:
    """Around `uvicorn.run`: yields its logging and shutdown options; cleans up afterwards.

    Logging is configured here for this (parent) process and handed to uvicorn for each
    worker; the metrics directory is set before any worker imports prometheus-client.
    """
    config = logging_config(choose_format(settings.log_format), settings.log_level)
    logging.config.dictConfig(config)
    inherited = os.environ.get(ENV)
    metrics_dir, created = prepare_metrics_dir(settings.metrics_dir)
    log_start(settings.url, host, port, workers, settings.graceful_timeout)
    try:
        yield {
            "log_config": config,
            "access_log": False,  # picus.access logs each request, with its request id
            "timeout_graceful_shutdown": settings.graceful_timeout,
            "timeout_worker_healthcheck": WORKER_HEALTHCHECK_S,
        }
    finally:
        if created:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        if inherited is None:  # leave the environment as it was (picus serve run in-process)
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = inherited


def masked_database(url: URL) -> str:
    """The database URL with its password (also one passed as a query parameter) masked.

    The driver is left out: Picus picks one per job (asyncpg serves, psycopg2 migrates).
    """
    url = url.set(drivername=url.get_backend_name())
    query = {
        key: ("***" if key.lower() in _SECRET_QUERY_KEYS else value)
        for key, value in url.query.items()
    }
    return url.set(query=query).render_as_string(hide_password=True)


def log_start(url: URL, host: str, port: int, workers: int, graceful_timeout: float) -> None:
    """The one start-up line: version, bind address, workers and database (no password)."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    logger.info(
        "picus %s starting on %s with %d worker(s), database %s",
        __version__,
        bind,
        workers,
        url.get_backend_name(),
        extra={
            "version": __version__,
            "bind": bind,
            "workers": workers,
            "database": masked_database(url),
            "graceful_timeout_s": graceful_timeout,
        },
    )


def log_worker_stopped() -> None:
    """Said by each worker once uvicorn is done with its requests and its pool is closed."""
    logger.info("worker stopped: database pool closed")
