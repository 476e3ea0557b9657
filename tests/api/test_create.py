"""POST /picus/put: any JSON value is stored; bad input is refused and changes nothing."""

import json
from decimal import Decimal

import pytest
from httpx import Response
from starlette.testclient import TestClient

from devtools.json_values import same_json_value
from picus.config import Settings
from tests.api.helpers import assert_problem

JSON_HEADERS = {"Content-Type": "application/json"}

DOCUMENTS = [
    {"name": "picus", "tags": ["woodpecker"], "nested": {"a": [1, {"b": None}]}},
    [1, "two", 3.5, False, None],
    "a string",
    "null",  # the JSON string "null", not null: Connexion's injected body would lose it
    "None",
    42,
    2**63,
    10**30,
    0.1,
    -0.0,
    True,
    None,
    "emoji 🐦‍⬛, RTL עברית, combining e\u0301, ZWJ 👩\u200d💻",
    "x" * 500_000,
]


def _put(client: TestClient, raw: bytes, content_type: str = "application/json") -> Response:
    response: Response = client.post(
        "/picus/put", content=raw, headers={"Content-Type": content_type}
    )
    return response


def _item_count(client: TestClient) -> int:
    return len(client.get("/picus/list").json())


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: repr(d)[:24])
def test_any_json_value_is_stored_and_read_back_equal(client: TestClient, document: object) -> None:
    created = client.post("/picus/put", content=json.dumps(document), headers=JSON_HEADERS)
    assert created.status_code == 201
    item_id = created.json()["id"]
    assert created.json() == {"id": item_id}
    assert created.headers["location"] == f"/picus/get/{item_id}"
    got = client.get(created.headers["location"])
    assert got.status_code == 200
    assert same_json_value(json.dumps(got.json()["data"]), document)
    assert same_json_value(got.content, {**got.json(), "data": document})


# Each of these came back rounded (through a float) after a 201.
EXACT_NUMBERS = [
    "0.12345678901234567890123",
    "1.00000000000000000001",
    "1e-400",
    "-123456789012345678901234567890.123456789",
    "1E+400",
]


@pytest.mark.parametrize("number", EXACT_NUMBERS)
def test_a_number_keeps_its_exact_decimal_value(client: TestClient, number: str) -> None:
    created = _put(client, f'{{"n": {number}, "list": [{number}]}}'.encode())
    assert created.status_code == 201
    for answer in (
        client.get(created.headers["location"]).content,
        client.get("/picus/list").content,
        client.get("/picus/list", params={"limit": 10}).content,
    ):
        read = json.loads(answer, parse_float=Decimal, parse_int=Decimal)
        item = read[0] if isinstance(read, list) else read
        assert item["data"] == {"n": Decimal(number), "list": [Decimal(number)]}


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "Application/Json; charset=utf-8",
        "application/json;charset=UTF-8",
    ],
)
def test_media_types_are_case_insensitive(client: TestClient, content_type: str) -> None:
    response = _put(client, b'{"a": 1}', content_type)
    assert response.status_code == 201, response.text
    assert client.get(response.headers["location"]).json()["data"] == {"a": 1}


def _chunked(*pieces: bytes) -> object:
    """A body with no Content-Length: httpx sends it with Transfer-Encoding: chunked."""
    yield from pieces


def test_a_chunked_body_is_read(client: TestClient) -> None:
    response = client.post(
        "/picus/put", content=_chunked(b'{"chunked"', b": [1, ", b"2]}"), headers=JSON_HEADERS
    )
    assert response.status_code == 201, response.text
    assert client.get(response.headers["location"]).json()["data"] == {"chunked": [1, 2]}


def test_a_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    pieces = [b'"'] + [b"a" * 65536] * 80 + [b'"']  # 5 MiB, no Content-Length to refuse on
    response = client.post("/picus/put", content=_chunked(*pieces), headers=JSON_HEADERS)
    assert_problem(response, 413)
    assert _item_count(client) == 0


BAD_BODIES = {
    "invalid JSON": b"{not json",
    "trailing garbage": b'{"a": 1} x',
    "NaN": b"[NaN]",
    "Infinity": b'{"a": Infinity}',
    "-Infinity": b"-Infinity",
    "a number that would be 2 MB written out": b"1e2000000",
    "tiny numbers adding up past the limit": b"[" + b",".join([b"1e-9999"] * 200) + b"]",
    "integer with 5000 digits": b"1" * 5000,
    "lone surrogate": b'"\\ud800"',
    "invalid UTF-8": b'"\xff\xfe"',
    "whitespace only": b"   ",
    "101 levels deep": b"[" * 101 + b"]" * 101,
    "100k levels deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("raw", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_bad_body_is_400_and_stores_nothing(client: TestClient, raw: bytes) -> None:
    assert_problem(_put(client, raw), 400)
    assert _item_count(client) == 0


def test_the_depth_limit_is_exactly_100_levels(client: TestClient) -> None:
    assert _put(client, b"[" * 100 + b"]" * 100).status_code == 201
    assert _put(client, b'{"a":' * 100 + b"1" + b"}" * 100).status_code == 201
    assert_problem(_put(client, b'{"a":' * 101 + b"1" + b"}" * 101), 400)


def test_an_empty_body_is_400(client: TestClient) -> None:
    assert_problem(_put(client, b""), 400)
    assert _item_count(client) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data"])
def test_other_content_types_are_415(client: TestClient, content_type: str) -> None:
    assert_problem(_put(client, b'{"a": 1}', content_type), 415)
    assert _item_count(client) == 0


def test_a_body_over_the_limit_is_413(client: TestClient) -> None:
    limit = 1024 * 1024
    at_limit = b'"' + b"a" * (limit - 2) + b'"'
    assert _put(client, at_limit).status_code == 201
    assert_problem(_put(client, at_limit + b" "), 413)
    assert _item_count(client) == 1


def test_the_body_limit_holds_before_the_body_is_read(client: TestClient) -> None:
    """A declared Content-Length over the limit is refused without reading what follows."""
    consumed: list[int] = []

    def body() -> object:
        for _ in range(64):  # would be 4 MiB if it were all read
            consumed.append(1)
            yield b"a" * 65536

    response = client.post(
        "/picus/put",
        content=body(),
        headers={"Content-Type": "application/json", "Content-Length": str(4 * 1024 * 1024)},
    )
    assert_problem(response, 413)
    assert len(consumed) < 64


def test_nul_in_a_string_is_400_on_postgresql_and_kept_on_sqlite(
    client: TestClient, settings: Settings
) -> None:
    response = _put(client, b'{"s": "a\\u0000b"}')
    if not settings.embedded:
        assert_problem(response, 400)
        assert _item_count(client) == 0
    else:
        assert response.status_code == 201
        assert client.get(response.headers["location"]).json()["data"] == {"s": "a\u0000b"}
