"""One guard per private library API picus/library_internals.py names: each fails loudly,
naming what changed, when an upgrade moves it (see also tests/test_connexion_fastpath.py
and tests/edge/test_server_protocol.py for the two subclassing modules)."""

import inspect
from pathlib import Path

import pytest
from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncASGIApp
from connexion.middleware.abstract import ROUTING_CONTEXT as CONNEXIONS_ROUTING_CONTEXT
from connexion.security import ApiKeySecurityHandler, BearerSecurityHandler
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request

from picus import library_internals as internals


def test_connexion_keeps_the_request_context_in_its_scope_extension() -> None:
    """Security's `user` reaches the scope extension that Picus reads and writes."""
    from connexion.lifecycle import ConnexionRequest

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    ConnexionRequest(scope).context["user"] = "someone"
    assert internals.connexion_context(scope)["user"] == "someone"
    assert internals.CONNEXION_CONTEXT in scope["extensions"]
    assert isinstance(Request(scope), Request)


def test_connexion_records_the_route_under_the_key_picus_reads() -> None:
    assert internals.ROUTING_CONTEXT == CONNEXIONS_ROUTING_CONTEXT


def test_asyncapp_keeps_its_inner_app_where_picus_sets_the_api_class() -> None:
    inner = internals.middleware_app(AsyncApp(__name__))
    assert isinstance(inner, AsyncASGIApp)
    assert "api_cls" in vars(AsyncASGIApp)


def test_security_handlers_still_find_key_functions_through_the_hook() -> None:
    hook = internals.SECURITY_RESOLVE_HOOK
    for handler in (ApiKeySecurityHandler, BearerSecurityHandler):
        assert hasattr(handler, hook), f"{handler.__name__} lost {hook}"
    for handler in (ApiKeySecurityHandler, BearerSecurityHandler):
        # Each resolves through the hook in its own code or its base class's.
        sources = "".join(inspect.getsource(base) for base in handler.__mro__[:-1])
        assert f"self.{hook}(" in sources, f"{handler.__name__} no longer calls {hook}"


def test_the_multiprocess_collector_keeps_its_directory_attribute(tmp_path: Path) -> None:
    collector = MultiProcessCollector(None, path=str(tmp_path))  # type: ignore[no-untyped-call]
    assert internals.collector_directory(collector) == str(tmp_path)


def test_live_gauge_files_are_named_as_picus_expects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prometheus-client's own file for a live gauge of process 4242, as a worker makes it."""
    from prometheus_client import values

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    value_class = values.MultiProcessValue(process_identifier=lambda: 4242)  # type: ignore[no-untyped-call]
    value_class("gauge", "g", "g", (), (), "help", multiprocess_mode="livesum").set(1)
    (made,) = [path.name for path in tmp_path.glob("*.db")]
    match = internals.LIVE_GAUGE_FILE.fullmatch(made)
    assert match is not None, f"prometheus-client now names it {made!r}"
    assert match.group(1) == "4242"
