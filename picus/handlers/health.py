"""Probes: liveness says the process serves; readiness says the database answers."""

from picus.handlers.context import store


def healthz() -> dict[str, str]:
    """GET /healthz: 200 while the process lives (no database call)."""
    return {"status": "ok"}


def readyz() -> dict[str, str]:
    """GET /readyz: 200 when the database answers; StorageUnavailable becomes 503."""
    store().ping()
    return {"status": "ok"}
