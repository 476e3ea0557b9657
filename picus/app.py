"""The application factory: the spec, the storage, the error mapping and the guards.

Connexion's AsyncApp serves the spec on the event loop: no WSGI bridge, no thread hop on
the request path. Its middleware stack is listed here in full, so that a stack with no
API keys configured carries no security middleware, and production carries no response
validation (it buffers every answer, the streamed list included).
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from connexion import AsyncApp
from connexion.middleware import MiddlewarePosition
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions

from picus.apikeys import KeyRing
from picus.config import Settings
from picus.feed import ChangeHub
from picus.handlers import health
from picus.handlers.context import SERVICES_KEY, Services
from picus.http.body_validator import body_validator_map
from picus.http.connexion_fastpath import (
    PrebuiltParameterValidator,
    PrebuiltRequestValidationMiddleware,
    SwaggerUIOffTheAPIPath,
    bind_handlers_directly,
)
from picus.http.problems import register_error_handlers
from picus.http.resolver import SpecNameResolver
from picus.http.route_guard import RouteGuard
from picus.http.security import (
    KeyCheck,
    register_auth_problems,
    required_scopes,
    security_map,
)
from picus.http.server_protocol import DRAINING_KEY
from picus.observability.db_metrics import PoolMetrics
from picus.observability.wiring import observe, worker_stopped
from picus.resources import resource_dir
from picus.spec import load_api_spec
from picus.storage.changes import ChangeStore
from picus.storage.database import open_database
from picus.storage.idempotency import IdempotentCreates
from picus.storage.items import ItemStore

SPEC_PATH = resource_dir("openapi") / "picus.yaml"
# Routes of the app's own, outside the spec (and outside Nginx's routes): the probes.
PROBES = {"/healthz": health.healthz, "/readyz": health.readyz}


def create_app(settings: Settings) -> AsyncApp:
    """Build the Connexion app for `settings`. The database is opened when it starts."""

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[dict[str, Services | Callable[[], None]]]:
        database = await open_database(settings, PoolMetrics())
        changes = ChangeStore(database)
        hub = ChangeHub(changes, database, timedelta(seconds=settings.changes_retention))
        ttl = timedelta(seconds=settings.idempotency_key_ttl)
        services = Services(
            settings=settings,
            store=ItemStore(database, changed=hub.changed),
            idempotent_creates=IdempotentCreates(database, ttl, changed=hub.changed),
            changes=changes,
            hub=hub,
        )
        await hub.start()
        try:
            # The server's protocol calls `draining` as it starts a graceful stop, so that
            # open event streams end then instead of holding the stop up.
            yield {SERVICES_KEY: services, DRAINING_KEY: hub.close}
        finally:
            await hub.stop()
            await database.close()
            worker_stopped()

    keyring = KeyRing(settings.api_key_entries)
    app = AsyncApp(
        __name__,
        lifespan=lifespan,
        middlewares=_middlewares(
            keys=bool(keyring), validate_responses=settings.validate_responses
        ),
        specification_dir=resource_dir("openapi"),
        resolver=SpecNameResolver(),
        validate_responses=settings.validate_responses,
        validator_map={
            "parameter": PrebuiltParameterValidator,
            **body_validator_map(settings.max_body_bytes, settings.max_json_depth),
        },
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True, serve_spec=True),
    )
    bind_handlers_directly(app)
    # API keys: enforced by Connexion from the spec, which loses its security without keys.
    spec = load_api_spec(SPEC_PATH, keys_enabled=bool(keyring))  # read once, for every part
    check = KeyCheck(keyring, required_scopes(spec))
    app.add_api(spec.raw, name="picus", security_map=security_map(check))
    register_auth_problems(app)
    for path, probe in PROBES.items():
        app.add_url_rule(path, path.strip("/"), probe, methods=["GET"])
    app.add_middleware(RouteGuard, position=MiddlewarePosition.BEFORE_ROUTING, spec=spec)
    observe(app, spec, own_paths=frozenset(PROBES))
    register_error_handlers(app, retry_after=settings.retry_after)
    return app


def _middlewares(*, keys: bool, validate_responses: bool) -> list[type]:
    """Connexion's default stack, less what this configuration does not use.

    Connexion's ContextMiddleware is left out too: handlers take their request as an
    argument (picus.http.connexion_fastpath) and read nothing from Connexion's context.
    """
    stack: list[type] = [
        ServerErrorMiddleware,
        ExceptionMiddleware,
        SwaggerUIOffTheAPIPath,
        RoutingMiddleware,
    ]
    if keys:
        stack.append(SecurityMiddleware)
    stack.append(PrebuiltRequestValidationMiddleware)
    if validate_responses:
        stack.append(ResponseValidationMiddleware)
    stack.append(LifespanMiddleware)
    return stack
