"""PUT /picus/{id}: replace an item's document, with the same input rules as create."""

import json
from datetime import datetime

import pytest
from starlette.testclient import TestClient

from tests.api.helpers import assert_problem


def _create(client: TestClient, document: object) -> int:
    response = client.post("/picus/put", json=document)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.mark.parametrize("document", [{"b": [1, 2]}, "null", None, 2**63])
def test_put_replaces_the_document_and_answers_the_item(
    client: TestClient, document: object
) -> None:
    item_id = _create(client, {"before": True})
    before = client.get(f"/picus/get/{item_id}").json()
    body = json.dumps(document).encode()  # httpx would send no body at all for json=None
    response = client.put(
        f"/picus/{item_id}", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    item = response.json()
    assert set(item) == {"id", "data", "created_at", "updated_at"}
    assert item["id"] == item_id
    assert item["data"] == document
    assert item["created_at"] == before["created_at"]
    updated, created = (datetime.fromisoformat(item[k]) for k in ("updated_at", "created_at"))
    assert updated > created
    assert client.get(f"/picus/get/{item_id}").json() == item


def test_put_of_an_absent_item_is_404_and_creates_nothing(client: TestClient) -> None:
    body = assert_problem(client.put("/picus/424242", json={"a": 1}), 404)
    assert "424242" in str(body["detail"])
    assert client.get("/picus/list").json() == []


@pytest.mark.parametrize(
    "raw",
    [b"{", b"NaN", b"[" * 150 + b"]" * 150, b""],
    ids=["truncated", "nan", "too-deep", "empty"],
)
def test_put_refuses_a_bad_body_with_400_and_keeps_the_item(client: TestClient, raw: bytes) -> None:
    item_id = _create(client, {"keep": 1})
    response = client.put(
        f"/picus/{item_id}", content=raw, headers={"content-type": "application/json"}
    )
    assert_problem(response, 400)
    assert client.get(f"/picus/get/{item_id}").json()["data"] == {"keep": 1}


def test_put_over_the_size_limit_is_413(client: TestClient) -> None:
    item_id = _create(client, 1)
    big = json.dumps("x" * (1024 * 1024 + 10)).encode()
    response = client.put(
        f"/picus/{item_id}", content=big, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


def test_put_with_another_media_type_is_415(client: TestClient) -> None:
    item_id = _create(client, 1)
    response = client.put(f"/picus/{item_id}", content=b"2", headers={"content-type": "text/plain"})
    assert_problem(response, 415)


@pytest.mark.parametrize("bad_id", ["abc", "9223372036854775808", "9" * 5000], ids=lambda i: i[:22])
def test_put_with_a_bad_id_is_400(client: TestClient, bad_id: str) -> None:
    assert_problem(client.put(f"/picus/{bad_id}", json=1), 400)


def test_an_unsupported_method_on_an_item_lists_the_ones_it_takes(client: TestClient) -> None:
    response = client.post("/picus/1", json=1)
    assert_problem(response, 405)
    assert response.headers["allow"] == "DELETE, PATCH, PUT"
