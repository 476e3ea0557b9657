"""Fixtures for tests that use Picus the way its clients do: the generated SDK, a browser."""

from collections.abc import Iterator

import httpx
import pytest
from picus_client import Client

from devtools.servers import LiveServer


@pytest.fixture
def sdk(live_server: LiveServer) -> Iterator[Client]:
    """The generated SDK pointed at a real `picus serve`; undocumented statuses raise."""
    with Client(
        base_url=f"{live_server.url}/picus",
        raise_on_unexpected_status=True,
        timeout=httpx.Timeout(10.0),
    ) as client:
        yield client
