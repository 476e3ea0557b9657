"""Fixtures for the feature tests: API keys made once per session, an app that enforces them."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from connexion import AsyncApp
from starlette.testclient import TestClient

from picus.apikeys import new_key
from picus.app import create_app
from picus.config import Settings


@dataclass(frozen=True)
class Keys:
    """A write key, a read key, and the configuration entries (hashes) for both."""

    write: str
    read: str
    entries: str


@pytest.fixture(scope="session")
def keys() -> Keys:
    write_key, write_entry = new_key("write")
    read_key, read_entry = new_key("read")
    return Keys(write_key, read_key, f"{write_entry.line()},{read_entry.line()}")


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
