"""Names for the route a request took, safe as metric labels: never a raw path with ids in it.

Spec routes are named by their operationId and the spec's path template (`/picus/get/{id}`);
the app's routes outside the spec (`/healthz`, `/metrics`) by their path; anything else is
`unmatched`.
"""

from dataclasses import dataclass

from starlette.types import Scope

from picus.library_internals import routing_context
from picus.observability.metrics import UNMATCHED
from picus.spec import ApiSpec


@dataclass(frozen=True, slots=True)
class RouteName:
    """What logs and metrics say about the route: operationId (None off the spec) and template."""

    operation_id: str | None
    path: str

    @property
    def label(self) -> str:
        """The metrics label: the operationId, or the path template off the spec."""
        return self.operation_id or self.path


UNMATCHED_ROUTE = RouteName(None, UNMATCHED)


class RouteNamer:
    """Resolves a finished request's route from Connexion's routing result or the app's own
    paths outside the spec."""

    def __init__(self, spec: ApiSpec, own_paths: frozenset[str]) -> None:
        self._templates = {op.operation_id: op.path for op in spec.operations}
        self._own_paths = own_paths

    @staticmethod
    def prepare(scope: Scope) -> None:
        """Make Connexion's routing result visible to the middleware that called this.

        Connexion's router works on a shallow copy of the scope and records the operation
        in `scope["extensions"]`; creating that dict first means the copy shares it.
        """
        routing_context(scope)

    def name(self, scope: Scope) -> RouteName:
        """The route of a request whose handling has started (or finished)."""
        routing = routing_context(scope)
        operation_id = routing.get("operation_id")
        if operation_id is not None:
            return RouteName(operation_id, self._templates.get(operation_id, UNMATCHED))
        path = scope["path"]
        return RouteName(None, path) if path in self._own_paths else UNMATCHED_ROUTE
