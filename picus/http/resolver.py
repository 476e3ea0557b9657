"""Bind the spec's short operationIds to handler functions.

Each operation names its module with `x-openapi-router-controller` and its function with a
short operationId (`create_item`). Connexion's default resolver would then rename the
operation to `picus.handlers.items.create_item`; this one keeps the spec's own name, which
is what generated SDKs, logs, metrics and API-key scopes all use.
"""

from typing import Any

from connexion.resolver import Resolution, Resolver


class SpecNameResolver(Resolver):
    """Find the function in the operation's controller; keep the spec's operationId."""

    def resolve(self, operation: Any) -> Resolution:
        resolution = super().resolve(operation)
        return Resolution(resolution.function, operation.operation_id)
