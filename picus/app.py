"""The application factory: the spec, the store, the error mapping and the guards."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from connexion import FlaskApp
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from picus.body import body_validator_map
from picus.config import Settings
from picus.handlers import health
from picus.handlers.context import STORE_KEY
from picus.problems import register_error_handlers
from picus.resources import resource_dir
from picus.routes import RouteGuard
from picus.storage.engine import create_engine
from picus.storage.items import ItemStore


def create_app(settings: Settings) -> FlaskApp:
    """Build the Connexion app for `settings`. The schema is not touched here."""
    store = ItemStore(create_engine(settings))

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        yield
        store.engine.dispose()

    app = FlaskApp(
        __name__,
        specification_dir=resource_dir("openapi"),
        lifespan=lifespan,
        pythonic_params=True,  # the spec's `id` reaches handlers as `id_`
        validate_responses=settings.validate_responses,
        validator_map=body_validator_map(settings.max_body_bytes, settings.max_json_depth),
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True, serve_spec=True),
    )
    app.add_api("picus.yaml", name="picus")
    # Probes sit outside the /picus API (and outside Nginx's routes), on the app's own port.
    app.add_url_rule("/healthz", "healthz", health.healthz, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", health.readyz, methods=["GET"])
    app.add_middleware(
        RouteGuard,
        position=MiddlewarePosition.BEFORE_ROUTING,
        spec_path=resource_dir("openapi") / "picus.yaml",
    )
    app.app.extensions[STORE_KEY] = store
    register_error_handlers(app, retry_after=settings.retry_after)
    return app
