"""Fixtures for the feature tests: API keys made once per session, an app that enforces them."""

from collections.abc import Iterator

import pytest
from connexion import AsyncApp
from starlette.testclient import TestClient

from picus.app import create_app
from picus.config import Settings
from tests.conftest import Keys


@pytest.fixture
def keyed_settings(settings: Settings, keys: Keys) -> Settings:
    """The test database's settings with API keys turned on."""
    return settings.model_copy(update={"api_keys": keys.entries})


@pytest.fixture
def keyed_client(keyed_settings: Settings) -> Iterator[TestClient]:
    """A client of an app that enforces API keys (both backends)."""
    app: AsyncApp = create_app(keyed_settings)
    with app.test_client() as client:
        yield client
