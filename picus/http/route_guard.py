"""A spec-driven guard in front of Connexion's router, for two answers it gets wrong.

- A path like `/picus/get/abc` matches no route, because Connexion routes an integer
  path parameter with an integer converter, so it would answer 404. The contract says a
  malformed id is a client error: 400. Digit strings too long to be an int64 are also
  stopped here (Starlette's converter raises ValueError past 4300 digits, a 500).
- For a known path with an unsupported method, Starlette's 405 names only the methods
  of the first route it tried in `Allow`; this guard answers 405 with all of them.
- A path with an empty segment (`//picus/list`, `/picus//get/1`) or a trailing slash
  names no resource: 404. Starlette would answer a trailing slash with a redirect built
  from the client's Host header (an open redirect), and an empty segment used to slip
  past routing altogether.

Everything else passes through untouched; the route table comes from the spec itself.
"""

import re
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from picus.http.problems import BadRequest
from picus.spec import ApiSpec

# An int64 never has more than 19 digits; a sign and one spare digit leave the range
# check (minimum/maximum in the spec) to Connexion's own validation.
_PLAUSIBLE_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
_PARAMETER = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    methods: frozenset[str]
    integer_params: frozenset[str]


def _routes(spec: ApiSpec) -> tuple[dict[str, frozenset[str]], list[_Route]]:
    """Literal path -> methods, and the templated routes."""
    methods: dict[str, set[str]] = {}
    integer_params: dict[str, set[str]] = {}
    for operation in spec.operations:
        methods.setdefault(operation.path, set()).add(operation.method)
        integer_params.setdefault(operation.path, set()).update(operation.integer_path_params)
    literal = {path: frozenset(m) for path, m in methods.items() if "{" not in path}
    templated = []
    for path, path_methods in methods.items():
        if "{" not in path:
            continue
        parts = _PARAMETER.split(path)  # literal, name, literal, name, ..., literal
        regex = "".join(
            f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
            for index, part in enumerate(parts)
        )
        templated.append(
            _Route(re.compile(regex), frozenset(path_methods), frozenset(integer_params[path]))
        )
    return literal, templated


class RouteGuard:
    """ASGI middleware: 400 for malformed integer ids, 405 with a complete `Allow`."""

    def __init__(self, app: ASGIApp, spec: ApiSpec) -> None:
        self.app = app
        self._literal, self._templated = _routes(spec)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self._check(scope["method"], scope["path"])
        await self.app(scope, receive, send)

    def _check(self, method: str, path: str) -> None:
        # Swagger UI (`/picus/ui/`) is served before this guard, by Connexion's middleware.
        if "//" in path or path.endswith("/"):
            raise HTTPException(404, detail=f"There is nothing at {path[:200]!r}.")
        if path in self._literal:
            self._check_method(method, self._literal[path])
            return
        for route in self._templated:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            malformed = [
                name
                for name in sorted(route.integer_params)
                if not _PLAUSIBLE_INTEGER.fullmatch(match.group(name))
            ]
            if not malformed:
                self._check_method(method, route.methods)
            elif method in _with_head(route.methods):
                raise BadRequest(f"The path parameter {malformed[0]!r} must be an integer.")
            # A malformed id with a method the path does not take: not an item URL, 404.
            return

    @staticmethod
    def _check_method(method: str, allowed: frozenset[str]) -> None:
        allowed = _with_head(allowed)
        if method not in allowed:
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})


def _with_head(methods: frozenset[str]) -> frozenset[str]:
    """Flask and Starlette answer HEAD wherever they answer GET."""
    return methods | {"HEAD"} if "GET" in methods else methods
