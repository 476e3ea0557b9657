"""The real server process: `picus serve` answers over TCP and stops cleanly on SIGTERM."""

import httpx

from devtools.servers import LiveServer


def test_picus_serve_answers_the_api_over_tcp(live_server: LiveServer) -> None:
    created = httpx.post(f"{live_server.url}/picus/put", json={"over": "tcp"})
    assert created.status_code == 201
    got = httpx.get(f"{live_server.url}{created.headers['Location']}")
    assert got.json()["data"] == {"over": "tcp"}
    assert live_server.stop() == 0
