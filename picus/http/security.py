"""API keys in Connexion: the spec declares them, Connexion enforces them, this module checks them.

- The spec's `apiKey` (header `X-API-Key`) and `bearerKey` (`Authorization: Bearer`) schemes
  both carry the same keys. Connexion calls KeyCheck for whichever the client sent.
- Each operation names the scope it needs in `x-picus-scope` (OpenAPI 3.0 allows scopes in
  security requirements only for OAuth2): `read` for list and get, `write` for the rest.
- With no keys configured the API is open, and the served spec says so: its security
  requirements are removed, so Swagger UI and schemathesis see what this instance enforces.
- Probes, the spec and Swagger UI are outside the spec's operations and so always open.
"""

from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.problem import problem
from connexion.security import ApiKeySecurityHandler, BearerSecurityHandler

from picus.apikeys import GRANTS, KeyRing, Scope
from picus.library_internals import SECURITY_RESOLVE_HOOK as RESOLVE
from picus.spec import ApiSpec

# RFC 9110 requires a challenge on every 401; Bearer is the registered scheme Picus accepts.
CHALLENGE = 'Bearer realm="picus"'


def required_scopes(spec: ApiSpec) -> dict[str, Scope]:
    """operationId -> the scope it needs; an operation that names none needs `write`."""
    return {op.operation_id: "read" if op.scope == "read" else "write" for op in spec.operations}


class KeyCheck:
    """Connexion's key-info function: token info for a good key with the scope, else an error."""

    def __init__(self, keyring: KeyRing, scopes: dict[str, Scope]) -> None:
        self.keyring = keyring
        self.scopes = scopes

    def __call__(self, key: str, request: ConnexionRequest) -> dict[str, object] | None:
        """None (Connexion answers 401) for an unknown key; 403 for a key without the scope."""
        # Header values lose leading white space in parsing; trailing is the client's too.
        entry = self.keyring.match(key.strip())
        if entry is None:
            return None
        routing = request.scope.get("extensions", {}).get("connexion_routing", {})
        needed = self.scopes.get(routing.get("operation_id", ""), "write")
        granted = GRANTS[entry.scope]
        if needed not in granted:
            raise ProblemException(
                status=403,
                title="Forbidden",
                detail=f"This API key has the {entry.scope!r} scope; "
                f"this operation needs {needed!r}.",
            )
        return {"sub": entry.principal, "scope": sorted(granted)}


def security_map(check: KeyCheck) -> dict[str, type]:
    """Connexion security handlers for the spec's two schemes, both checking with `check`.

    Connexion resolves a key-info function from an `x-apikeyInfoFunc` name in the spec;
    overriding that lookup binds this app's keys instead, and keeps code names out of the spec.
    """

    def resolve(_handler: object, _security_scheme: dict[str, Any]) -> KeyCheck:
        return check

    return {
        "apiKey": type("PicusApiKeyHandler", (ApiKeySecurityHandler,), {RESOLVE: resolve}),
        "bearer": type("PicusBearerHandler", (BearerSecurityHandler,), {RESOLVE: resolve}),
    }


def register_auth_problems(app: AsyncApp) -> None:
    """Every 401 (missing, malformed or unknown key) gets a WWW-Authenticate challenge."""

    async def unauthorized(request: ConnexionRequest, _exc: Exception) -> ConnexionResponse:
        sent_something = any(name in request.headers for name in ("x-api-key", "authorization"))
        challenge = CHALLENGE + (', error="invalid_token"' if sent_something else "")
        detail = (
            "The API key is not valid."
            if sent_something
            else "This operation needs an API key: send it in the X-API-Key header "
            "or as `Authorization: Bearer <key>`."
        )
        return problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})

    app.add_error_handler(401, unauthorized)
