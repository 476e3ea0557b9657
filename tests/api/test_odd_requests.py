"""Requests the way real clients and hostile ones send them, to a real `picus serve`.

Each of these was answered wrongly before (a 500, a redirect to another host, a body read
as empty, data served past the key check); they go over a plain socket so that no client
library tidies them up first.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.servers import LiveServer
from tests.conftest import Keys
from tests.support.raw_http import RawResponse, chunked, exchange, request


def _problem(response: RawResponse, status: int) -> dict[str, object]:
    assert response.status == status, response
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, object] = json.loads(response.body)
    assert problem["status"] == status
    return problem


@pytest.fixture
def keyed_server(pg_env: dict[str, str], keys: Keys, tmp_path: Path) -> Iterator[LiveServer]:
    """`picus serve` with API keys on."""
    env = {**pg_env, "PICUS_API_KEYS": keys.entries}
    with LiveServer(env, log_path=tmp_path / "server.log") as server:
        yield server


def _create(server: LiveServer, keys: Keys | None = None, body: bytes = b'{"a": 1}') -> int:
    headers = {"Content-Type": "application/json"}
    if keys is not None:
        headers["X-API-Key"] = keys.write
    response = exchange(server.port, request("POST", "/picus/put", headers=headers, body=body))
    assert response.status == 201, response
    return int(json.loads(response.body)["id"])


@pytest.mark.parametrize("target", ["//picus/list", "//picus/get/{id}", "///picus/list"])
def test_a_path_with_an_empty_segment_is_404_and_never_skips_the_key_check(
    keyed_server: LiveServer, keys: Keys, target: str
) -> None:
    item_id = _create(keyed_server, keys)
    response = exchange(keyed_server.port, request("GET", target.format(id=item_id)))
    _problem(response, 404)
    assert b'"a"' not in response.body


def test_a_delete_with_an_empty_segment_deletes_nothing(
    keyed_server: LiveServer, keys: Keys
) -> None:
    item_id = _create(keyed_server, keys)
    headers = {"X-API-Key": keys.write}
    _problem(exchange(keyed_server.port, request("DELETE", f"//picus/{item_id}")), 404)
    got = exchange(keyed_server.port, request("GET", f"/picus/get/{item_id}", headers=headers))
    assert got.status == 200


@pytest.mark.parametrize("target", ["/picus//get/{id}", "/picus/get/{id}/", "/picus/list/"])
def test_an_odd_path_is_404_and_never_a_redirect_to_the_clients_host(
    live_server: LiveServer, target: str
) -> None:
    item_id = _create(live_server)
    headers = {"Host": "evil.example"}
    response = exchange(
        live_server.port, request("GET", target.format(id=item_id), headers=headers)
    )
    _problem(response, 404)
    assert "location" not in response.headers


@pytest.mark.parametrize(
    "content_type", ["APPLICATION/JSON", "Application/Json; charset=utf-8", "application/JSON"]
)
def test_a_mixed_case_content_type_is_stored(live_server: LiveServer, content_type: str) -> None:
    body = b'{"case": "insensitive"}'
    headers = {"Content-Type": content_type}
    created = exchange(live_server.port, request("POST", "/picus/put", headers=headers, body=body))
    assert created.status == 201, created
    got = exchange(live_server.port, request("GET", created.headers["location"]))
    assert json.loads(got.body)["data"] == {"case": "insensitive"}


def test_a_chunked_body_is_read_and_one_over_the_limit_is_413(live_server: LiveServer) -> None:
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    body = chunked(b'{"chunked', b'": true}')
    created = exchange(live_server.port, request("POST", "/picus/put", headers=headers, body=body))
    assert created.status == 201, created
    got = exchange(live_server.port, request("GET", created.headers["location"]))
    assert json.loads(got.body)["data"] == {"chunked": True}
    too_large = chunked(b'"', *[b"x" * 65536] * 20, b'"')  # 1.25 MiB against 1 MiB
    refused = exchange(
        live_server.port, request("POST", "/picus/put", headers=headers, body=too_large)
    )
    _problem(refused, 413)


def test_an_api_key_with_white_space_around_it_is_accepted(
    keyed_server: LiveServer, keys: Keys
) -> None:
    for sent in (f" {keys.read}", f"{keys.read} ", f"\t{keys.read}\t"):
        got = exchange(
            keyed_server.port, request("GET", "/picus/list?limit=1", headers={"X-API-Key": sent})
        )
        assert got.status == 200, (repr(sent), got)


def test_the_app_port_bounds_request_heads(live_server: LiveServer) -> None:
    """`picus serve` runs the hardened protocol (tests/edge has the rest of its behaviour)."""
    huge = request("GET", "/picus/list?limit=1", headers={"X-Padding": "a" * 100_000})
    _problem(exchange(live_server.port, huge), 431)
    _problem(
        exchange(live_server.port, b"GET /picus/list HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400
    )
    assert exchange(live_server.port, request("GET", "/picus/list?limit=1")).status == 200
