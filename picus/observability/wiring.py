"""Plugs observability into a Picus app: middleware, the /metrics route, engine events."""

from pathlib import Path

from connexion import FlaskApp
from connexion.middleware import MiddlewarePosition
from sqlalchemy.engine import Engine

from picus.observability.access import RequestObserver
from picus.observability.database import instrument_engine
from picus.observability.exposition import metrics
from picus.observability.lifecycle import log_worker_stopped
from picus.observability.multiprocess import forget_this_worker
from picus.observability.request_id import RequestIdMiddleware
from picus.observability.route_names import RouteNamer


def observe(app: FlaskApp, engine: Engine, spec_path: Path) -> None:
    """Add request ids, access logs and metrics to `app` (call before it starts)."""
    # Both sit outside Connexion's ExceptionMiddleware, so they see every answer, problems
    # included; added first means outermost, so the id is bound before the access line.
    app.add_middleware(RequestIdMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(
        RequestObserver,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        route_namer=RouteNamer(spec_path, app.app.url_map),
    )
    # Like the probes: on the app's own port, outside the /picus API and Nginx's routes.
    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
    instrument_engine(engine)


def worker_stopped() -> None:
    """Called by the app's lifespan once its pool is closed."""
    forget_this_worker()
    log_worker_stopped()
