"""The application factory: the spec, the store, the error mapping and the guards."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from connexion import FlaskApp
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from picus.apikeys import KeyRing
from picus.body import body_validator_map
from picus.config import Settings
from picus.handlers import health
from picus.handlers.context import IDEMPOTENT_CREATES_KEY, STORE_KEY
from picus.observability.wiring import observe, worker_stopped
from picus.problems import register_error_handlers
from picus.resolver import SpecNameResolver
from picus.resources import resource_dir
from picus.routes import RouteGuard
from picus.security import (
    KeyCheck,
    load_spec,
    register_auth_problems,
    required_scopes,
    security_map,
)
from picus.storage.engine import create_engine
from picus.storage.idempotency import IdempotentCreates
from picus.storage.items import ItemStore


def create_app(settings: Settings) -> FlaskApp:
    """Build the Connexion app for `settings`. The schema is not touched here."""
    store = ItemStore(create_engine(settings))

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        yield
        store.engine.dispose()
        worker_stopped()

    app = FlaskApp(
        __name__,
        specification_dir=resource_dir("openapi"),
        lifespan=lifespan,
        pythonic_params=True,  # the spec's `id` reaches handlers as `id_`
        resolver=SpecNameResolver(),
        validate_responses=settings.validate_responses,
        validator_map=body_validator_map(settings.max_body_bytes, settings.max_json_depth),
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True, serve_spec=True),
    )
    # API keys: enforced by Connexion from the spec, which loses its security without keys.
    keyring = KeyRing(settings.api_key_entries)
    spec = load_spec(resource_dir("openapi") / "picus.yaml", keys_enabled=bool(keyring))
    check = KeyCheck(keyring, required_scopes(spec))
    app.add_api(spec, name="picus", security_map=security_map(check))
    register_auth_problems(app)
    # Probes sit outside the /picus API (and outside Nginx's routes), on the app's own port.
    app.add_url_rule("/healthz", "healthz", health.healthz, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", health.readyz, methods=["GET"])
    app.add_middleware(
        RouteGuard,
        position=MiddlewarePosition.BEFORE_ROUTING,
        spec_path=resource_dir("openapi") / "picus.yaml",
    )
    observe(app, store.engine, spec_path=resource_dir("openapi") / "picus.yaml")
    app.app.extensions[STORE_KEY] = store
    app.app.extensions[IDEMPOTENT_CREATES_KEY] = IdempotentCreates(
        store.engine, timedelta(seconds=settings.idempotency_key_ttl)
    )
    register_error_handlers(app, retry_after=settings.retry_after)
    return app
