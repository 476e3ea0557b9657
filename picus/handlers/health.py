"""Probes: liveness says the process serves; readiness says the database answers."""

from starlette.requests import Request
from starlette.responses import Response

from picus.handlers.context import services

_OK = b'{"status":"ok"}'


async def healthz(_request: Request) -> Response:
    """GET /healthz: 200 while the process lives (no database call)."""
    return Response(_OK, media_type="application/json")


async def readyz(request: Request) -> Response:
    """GET /readyz: 200 when the database answers; StorageUnavailable becomes 503."""
    await services(request).store.ping()
    return Response(_OK, media_type="application/json")
