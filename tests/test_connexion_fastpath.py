"""Guards for the Connexion internals picus.http.connexion_fastpath relies on, and its effect.

If a Connexion upgrade renames or reshapes one of these, a test here fails and names it,
instead of the app quietly losing validation or binding handlers the old way.
"""

import inspect

import pytest
from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncASGIApp
from connexion.middleware.request_validation import RequestValidationOperation
from connexion.operations import AbstractOperation
from connexion.validators import ParameterValidator

from picus.config import Settings
from picus.http import connexion_fastpath
from picus.http.connexion_fastpath import DirectApi, DirectOperation


def test_asyncapp_keeps_its_middleware_app_and_api_class() -> None:
    app = AsyncApp(__name__)
    assert isinstance(app._middleware_app, AsyncASGIApp)
    assert "api_cls" in vars(AsyncASGIApp), "AsyncASGIApp chooses its API class by api_cls"


def test_request_validation_operation_keeps_what_the_prebuilt_one_reads() -> None:
    parameters = inspect.signature(RequestValidationOperation.__init__).parameters
    assert {"next_app", "operation", "strict_validation", "validator_map"} <= set(parameters)
    source = inspect.getsource(RequestValidationOperation.__init__)
    assert "self._operation = operation" in source
    assert "self._validator_map" in source
    for method in ("extract_content_type", "validate_mime_type", "security_query_params"):
        assert hasattr(RequestValidationOperation, method), method
    assert "_uri_parser_class" in inspect.getsource(AbstractOperation.__init__)


def test_parameter_validator_keeps_the_hook_the_prebuilt_one_overrides() -> None:
    source = inspect.getsource(ParameterValidator)
    assert "self.validate_parameter(" in source
    parameters = inspect.signature(ParameterValidator.validate_parameter).parameters
    assert list(parameters)[:3] == ["parameter_type", "value", "param"]


@pytest.mark.parametrize("backend_settings", ["sqlite"], indirect=True)
def test_operations_are_bound_directly_and_validators_built_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After start-up, a request builds no parameter validator and no decorator."""
    from picus.app import create_app

    app = create_app(settings)
    built: list[object] = []
    original_init = connexion_fastpath.PrebuiltParameterValidator.__init__

    def counting_init(self: object, *args: object, **kwargs: object) -> None:
        built.append(self)
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]

    with app.test_client() as client:
        # The API's routes exist once the app has started (Connexion builds them then).
        operations = [
            operation
            for apis in app._middleware_app.apis.values()
            for api in apis
            for operation in api.operations.values()
        ]
        assert all(isinstance(operation, DirectOperation) for operation in operations)
        assert {op.operation_id for op in operations} >= {"create_item", "get_item"}
        assert app._middleware_app.api_cls is DirectApi
        monkeypatch.setattr(
            connexion_fastpath.PrebuiltParameterValidator, "__init__", counting_init
        )
        client.get("/picus/list", params={"limit": 1})
        created = client.post("/picus/put", json={"a": 1})
        assert created.status_code == 201
        assert client.get(created.headers["location"]).status_code == 200
        assert client.get("/picus/list", params={"limit": "x"}).status_code == 400
    assert built == []
