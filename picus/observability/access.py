"""Per-request observation: one access log line and the request metrics, for every answer.

Added before Connexion's ExceptionMiddleware, so problem answers (validation errors,
404s, 500s) are seen with their final status. Never logs a header or body value other
than the request id and the client address.
"""

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from picus.observability import metrics
from picus.observability.route_names import RouteNamer

logger = logging.getLogger("picus.access")

# Methods named as they are; anything else a client sends is "other" (a bounded label).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# The status logged and counted when the app failed before it started an answer.
NO_ANSWER = 500


class RequestObserver:
    """ASGI middleware: times each HTTP request, counts it, and logs it once it is answered."""

    def __init__(self, app: ASGIApp, route_namer: RouteNamer) -> None:
        self.app = app
        self.route_namer = route_namer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = NO_ANSWER
        self.route_namer.prepare(scope)

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics.IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_observed)
        finally:
            metrics.IN_PROGRESS.dec()
            self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = self.route_namer.name(scope)
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
        metrics.record_request(route.label, method, status, seconds)
        client = scope.get("client")
        logger.info(
            "request",
            extra={
                "method": method,
                "path": route.path,
                "operation_id": route.operation_id,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "client": client[0] if client else None,
            },
        )
