"""Every small use of a library's private API, in one place (tests/test_library_internals.py
has one test for each, which fails loudly when an upgrade changes it).

Two larger extensions live in their own modules, because they are subclasses of a
library's classes and list the internals they rely on in their docstrings, each guarded
too: picus/http/connexion_fastpath.py (Connexion's per-request work done once) and
picus/http/server_protocol.py (uvicorn's httptools protocol, hardened).
"""

import re
from typing import Any

from starlette.types import Scope

# Connexion keeps a request's context (the security check's `user`, and what Picus adds:
# the parsed body) in this scope extension; ContextMiddleware would copy it into
# `connexion.context`, which Picus does not run.
CONNEXION_CONTEXT = "connexion_context"
# Connexion's router records the matched operation in this scope extension (a literal,
# not imported: `picus serve`'s supervisor reads LIVE_GAUGE_FILE and should not import
# Connexion for it).
ROUTING_CONTEXT = "connexion_routing"
# The hook of Connexion's security handlers that finds a key-info function (by the
# spec's `x-apikeyInfoFunc` name); overriding it binds the app's own key check instead.
SECURITY_RESOLVE_HOOK = "_resolve_func"
# prometheus-client's multiprocess collector keeps its directory here.
COLLECTOR_PATH_ATTRIBUTE = "_path"
# prometheus-client names a live gauge's file after its mode and the writing process.
LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


def connexion_context(scope: Scope) -> dict[str, Any]:
    """The request's Connexion context (made if absent, so writers and readers share it)."""
    context: dict[str, Any] = scope.setdefault("extensions", {}).setdefault(CONNEXION_CONTEXT, {})
    return context


def routing_context(scope: Scope) -> dict[str, Any]:
    """What Connexion's router recorded about the request (made if absent: see RouteNamer)."""
    routing: dict[str, Any] = scope.setdefault("extensions", {}).setdefault(ROUTING_CONTEXT, {})
    return routing


def middleware_app(app: Any) -> Any:
    """An AsyncApp's inner ASGI app, whose `api_cls` decides how operations are bound."""
    return app._middleware_app


def collector_directory(collector: Any) -> str:
    """The directory a prometheus-client MultiProcessCollector reads."""
    directory: str = getattr(collector, COLLECTOR_PATH_ATTRIBUTE)
    return directory
