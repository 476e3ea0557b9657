"""Plugs observability into a Picus app: middleware and the /metrics route."""

from connexion import AsyncApp
from connexion.middleware import MiddlewarePosition

from picus.observability.access import RequestObserver
from picus.observability.exposition import serve_metrics
from picus.observability.lifecycle import log_worker_stopped
from picus.observability.multiprocess import forget_this_worker
from picus.observability.request_id import RequestIdMiddleware
from picus.observability.route_names import RouteNamer
from picus.spec import ApiSpec

METRICS_PATH = "/metrics"


def observe(app: AsyncApp, spec: ApiSpec, own_paths: frozenset[str]) -> None:
    """Add request ids, access logs and metrics to `app` (call before it starts).

    `own_paths` are the app's routes outside the spec (probes), named as they are in logs.
    """
    # Both sit outside Connexion's ExceptionMiddleware, so they see every answer, problems
    # included; added first means outermost, so the id is bound before the access line.
    app.add_middleware(RequestIdMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(
        RequestObserver,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        route_namer=RouteNamer(spec, own_paths | {METRICS_PATH}),
    )
    # Like the probes: on the app's own port, outside the /picus API and Nginx's routes.
    app.add_url_rule(METRICS_PATH, "metrics", serve_metrics, methods=["GET"])


def worker_stopped() -> None:
    """Called by the app's lifespan once its pool is closed."""
    forget_this_worker()
    log_worker_stopped()
