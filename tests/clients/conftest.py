"""Fixtures for tests that use Picus the way its clients do: the generated SDK, a browser."""

from collections.abc import Iterator

import httpx
import pytest
from picus_client import Client
from sqlalchemy.engine import URL

from devtools.servers import LiveServer


@pytest.fixture(scope="module")
def sdk_server(pg_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real `picus serve` per module (starting one per test was most of their time)."""
    env = {"DATABASE_URL": pg_url.render_as_string(hide_password=False)}
    log = tmp_path_factory.mktemp("sdk") / "server.log"
    with LiveServer(env, log_path=log) as server:
        yield server


@pytest.fixture
def sdk(sdk_server: LiveServer, pg_env: dict[str, str]) -> Iterator[Client]:
    """The generated SDK pointed at the module's server, on an emptied database
    (`pg_env` empties it); undocumented statuses raise."""
    with Client(
        base_url=f"{sdk_server.url}/picus",
        raise_on_unexpected_status=True,
        timeout=httpx.Timeout(10.0),
    ) as client:
        yield client
