"""X-Request-ID round trip, in-process: echoed when well-formed, replaced otherwise, in problems."""

import re
import uuid

import pytest
from starlette.testclient import TestClient

# Request ids live in HTTP middleware, before any storage: one backend is enough.
pytestmark = pytest.mark.parametrize("backend_settings", ["sqlite"], indirect=True)

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "request_id",
    ["abc-123", str(uuid.uuid4()), uuid.uuid4().hex, "a" * 128, "dGVzdA==", "trace:1/2.3_4+5"],
)
def test_a_well_formed_request_id_is_echoed(client: TestClient, request_id: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": request_id})
    assert response.headers["X-Request-ID"] == request_id


@pytest.mark.parametrize(
    "sent",
    [b"", b"has space", b"a" * 129, "caf\u00e9".encode("latin-1"), b"semi;colon", b'quo"te'],
)
def test_a_malformed_request_id_is_replaced(client: TestClient, sent: bytes) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


def test_two_request_ids_are_replaced_by_one_new(client: TestClient) -> None:
    response = client.get("/healthz", headers=[("X-Request-ID", "one"), ("X-Request-ID", "two")])
    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


def test_each_request_without_an_id_gets_its_own(client: TestClient) -> None:
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    assert all(GENERATED.fullmatch(request_id) for request_id in ids)


PROBLEMS = [
    pytest.param("GET", "/picus/get/987654321", None, 404, id="handler-404"),
    pytest.param("GET", "/picus/list?limit=abc", None, 400, id="connexion-validation-400"),
    pytest.param("GET", "/picus/get/abc", None, 400, id="route-guard-400"),
    pytest.param("POST", "/picus/1", None, 405, id="method-405"),
    pytest.param("GET", "/no/such/path", None, 404, id="unknown-path-404"),
    pytest.param("POST", "/picus/put", b'{"broken": ', 400, id="malformed-json-400"),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), PROBLEMS)
@pytest.mark.parametrize("sent_id", [None, "client-chosen-id"])
def test_every_problem_names_the_request_id(
    client: TestClient,
    method: str,
    path: str,
    body: bytes | None,
    status: int,
    sent_id: str | None,
) -> None:
    headers = {"Content-Type": "application/json"}
    if sent_id is not None:
        headers["X-Request-ID"] = sent_id
    response = client.request(method, path, content=body, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    request_id = response.headers["X-Request-ID"]
    assert request_id == (sent_id or request_id)
    problem = response.json()
    assert problem["request_id"] == request_id
    assert problem["status"] == status
    assert int(response.headers["content-length"]) == len(response.content)


def test_a_successful_answer_is_left_as_it_was(client: TestClient) -> None:
    created = client.post("/picus/put", json={"a": 1}, headers={"X-Request-ID": "keep-me"})
    assert created.status_code == 201
    assert created.headers["X-Request-ID"] == "keep-me"
    assert "request_id" not in created.json()


@pytest.mark.parametrize("item_id", ["9" * 22, "9" * 5000])
def test_an_absurd_id_is_still_a_problem_with_a_request_id(
    client: TestClient, item_id: str
) -> None:
    response = client.get(f"/picus/get/{item_id}")
    assert response.status_code == 400
    assert response.json()["request_id"] == response.headers["X-Request-ID"]
