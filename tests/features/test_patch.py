"""PATCH /picus/{id} with a JSON Merge Patch (RFC 7396), on both backends."""

import json
from decimal import Decimal

import pytest
from httpx import Response
from starlette.testclient import TestClient

from tests.api.helpers import assert_problem

MERGE_PATCH = "application/merge-patch+json"

# RFC 7396, Appendix A: original, patch, result.
RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


def _patch(
    client: TestClient,
    item_id: int,
    body: bytes,
    content_type: str = MERGE_PATCH,
    if_match: str | None = None,
) -> Response:
    headers = {"Content-Type": content_type}
    if if_match is not None:
        headers["If-Match"] = if_match
    response: Response = client.patch(f"/picus/{item_id}", content=body, headers=headers)
    return response


def _create(client: TestClient, document: object) -> int:
    created = client.post(
        "/picus/put", content=json.dumps(document), headers={"Content-Type": "application/json"}
    )
    assert created.status_code == 201
    return int(created.json()["id"])


@pytest.mark.parametrize(
    ("original", "patch", "result"), RFC_EXAMPLES, ids=lambda v: json.dumps(v)[:20]
)
def test_the_rfc_7396_examples(
    client: TestClient, original: object, patch: object, result: object
) -> None:
    item_id = _create(client, original)
    patched = _patch(client, item_id, json.dumps(patch).encode())
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"] == result
    assert client.get(f"/picus/get/{item_id}").json()["data"] == result


def test_a_patch_bumps_the_version_and_keeps_created_at(client: TestClient) -> None:
    item_id = _create(client, {"a": 1})
    before = client.get(f"/picus/get/{item_id}")
    patched = _patch(client, item_id, b'{"b": 2}')
    assert patched.headers["etag"] == '"2"'
    assert patched.json()["created_at"] == before.json()["created_at"]
    assert patched.json()["updated_at"] >= before.json()["updated_at"]


def test_numbers_and_strings_keep_full_fidelity(client: TestClient) -> None:
    item_id = _create(client, {"keep": "x"})
    patch = b'{"n": 0.12345678901234567890123, "tiny": 1e-400, "s": "\\u00e9\\ud83d\\udc26"}'
    _patch(client, item_id, patch)
    again = _patch(client, item_id, b'{"other": 1}')  # the stored numbers are read back
    data = json.loads(again.content, parse_float=Decimal)["data"]
    assert data["n"] == Decimal("0.12345678901234567890123")
    assert data["tiny"] == Decimal("1e-400")
    assert data["s"] == "é🐦"
    assert data["keep"] == "x"


def test_if_match_makes_a_patch_conditional(client: TestClient) -> None:
    item_id = _create(client, {"a": 1})
    assert_problem(_patch(client, item_id, b'{"a": 2}', if_match='"7"'), 412)
    assert client.get(f"/picus/get/{item_id}").json()["data"] == {"a": 1}
    assert _patch(client, item_id, b'{"a": 2}', if_match='"1"').status_code == 200


def test_patch_errors_are_problems_and_change_nothing(client: TestClient) -> None:
    item_id = _create(client, {"a": 1})
    assert_problem(_patch(client, 999_999, b"{}"), 404)
    assert_problem(
        client.patch("/picus/abc", content=b"{}", headers={"Content-Type": MERGE_PATCH}), 400
    )
    assert_problem(_patch(client, item_id, b'{"a": 2}', "application/json"), 415)
    assert_problem(_patch(client, item_id, b"{not json"), 400)
    assert_problem(_patch(client, item_id, b"[" * 101 + b"]" * 101), 400)
    assert_problem(_patch(client, item_id, b'"' + b"a" * (1024 * 1024) + b'"'), 413)
    assert client.get(f"/picus/get/{item_id}").json()["data"] == {"a": 1}


def test_a_patch_that_would_grow_the_document_past_the_limit_is_413(client: TestClient) -> None:
    half = "a" * (600 * 1024)
    item_id = _create(client, {"one": half})
    assert_problem(_patch(client, item_id, json.dumps({"two": half}).encode()), 413)
    assert client.get(f"/picus/get/{item_id}").json()["data"] == {"one": half}


def test_the_media_type_is_case_insensitive(client: TestClient) -> None:
    item_id = _create(client, {})
    assert _patch(client, item_id, b'{"a": 1}', "Application/Merge-Patch+JSON").status_code == 200
