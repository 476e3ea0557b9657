"""Property-based contract tests: schemathesis drives every operation from the spec.

Positive and negative data, the spec's examples, boundary values and undocumented methods
(see schemathesis.toml), then a stateful run following the spec's links
(put -> get -> delete). Every check schemathesis has is on, among them not_a_server_error,
status_code_conformance, content_type_conformance, response_schema_conformance and
response_headers_conformance; the app also validates its own responses. Runs on PostgreSQL.
"""

from typing import Any

import pytest
import schemathesis
from connexion import FlaskApp
from schemathesis.specs.openapi.schemas import OpenApiSchema

from picus.app import create_app
from picus.config import Settings, load_settings


@pytest.fixture
def contract_app(pg_env: dict[str, str]) -> FlaskApp:
    """The app on an empty PostgreSQL database, validating its own responses too."""
    settings: Settings = load_settings(database_url=pg_env["DATABASE_URL"], validate_responses=True)
    return create_app(settings)


@pytest.fixture
def api_schema(contract_app: FlaskApp) -> OpenApiSchema:
    """The spec as the running app serves it."""
    return schemathesis.openapi.from_asgi("/picus/openapi.json", contract_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_honours_the_contract(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()


def test_stateful_put_get_delete_follows_the_links(api_schema: OpenApiSchema) -> None:
    state_machine = api_schema.as_state_machine()
    state_machine.run()
