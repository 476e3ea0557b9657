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
from connexion import AsyncApp
from schemathesis.specs.openapi.schemas import OpenApiSchema

from picus.app import create_app
from picus.config import Settings, load_settings
from tests.support.database import empty_database


@pytest.fixture
def contract_settings(pg_env: dict[str, str]) -> Settings:
    """An empty PostgreSQL database; the app validates its own responses too."""
    return load_settings(database_url=pg_env["DATABASE_URL"], validate_responses=True)


@pytest.fixture
def contract_app(contract_settings: Settings) -> AsyncApp:
    """The app under test."""
    return create_app(contract_settings)


@pytest.fixture
def api_schema(contract_app: AsyncApp) -> OpenApiSchema:
    """The spec as the running app serves it."""
    return schemathesis.openapi.from_asgi("/picus/openapi.json", contract_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_honours_the_contract(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()


def test_stateful_put_get_delete_follows_the_links(
    api_schema: OpenApiSchema, contract_settings: Settings
) -> None:
    class Workflow(api_schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            """Each generated scenario starts empty: no items, no remembered Idempotency-Keys."""
            empty_database(contract_settings)

    Workflow.run()
