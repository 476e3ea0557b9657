"""Idempotency-Key on POST /picus/put: one item per key, replays answer alike, keys expire."""

from datetime import UTC, datetime, timedelta

import pytest
from httpx import Response
from starlette.testclient import TestClient

from picus.config import load_settings
from picus.documents import parse_document
from picus.errors import IdempotencyKeyReused
from picus.storage.database import Database
from picus.storage.idempotency import IdempotentCreates
from picus.storage.items import ItemStore
from tests.api.helpers import assert_problem

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def _post(client: TestClient, body: bytes, key: str = KEY) -> Response:
    headers = {"content-type": "application/json", "Idempotency-Key": key}
    response: Response = client.post("/picus/put", content=body, headers=headers)
    return response


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(client: TestClient) -> None:
    first = client.post("/picus/put", json={"a": 1, "b": [2]}, headers={"Idempotency-Key": KEY})
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    # Equal as a JSON value (key order and spacing differ): the same request.
    again = _post(client, b'{ "b": [2], "a": 1 }')
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(client.get("/picus/list").json()) == 1


def test_the_same_key_with_another_body_is_422_and_stores_nothing(client: TestClient) -> None:
    assert _post(client, b'{"a": 1}').status_code == 201
    body = assert_problem(_post(client, b'{"a": 2}'), 422)
    assert "Idempotency-Key" in str(body["detail"])
    assert [item["data"] for item in client.get("/picus/list").json()] == [{"a": 1}]


def test_different_keys_and_no_key_create_separate_items(client: TestClient) -> None:
    ids = {
        _post(client, b"1", key="one").json()["id"],
        _post(client, b"1", key="two").json()["id"],
        client.post("/picus/put", json=1).json()["id"],
        client.post("/picus/put", json=1).json()["id"],
    }
    assert len(ids) == 4


def test_a_replay_still_names_the_item_after_it_was_deleted(client: TestClient) -> None:
    item_id = _post(client, b"1").json()["id"]
    assert client.delete(f"/picus/{item_id}").status_code == 204
    replay = _post(client, b"1")
    assert replay.status_code == 201
    assert replay.json()["id"] == item_id  # the create happened once; it is not redone
    assert client.get("/picus/list").json() == []


@pytest.mark.parametrize(
    "key",
    ["", "has space", "x" * 256, "caf\u00e9"],
    ids=["empty", "space", "too-long", "non-ascii"],
)
def test_a_malformed_key_is_400_and_stores_nothing(client: TestClient, key: str) -> None:
    headers = {
        "content-type": "application/json",
        "Idempotency-Key": key.encode(),
    }
    assert_problem(client.post("/picus/put", content=b"1", headers=headers), 400)
    assert client.get("/picus/list").json() == []


def test_a_key_of_255_visible_characters_is_accepted(client: TestClient) -> None:
    key = "".join(chr(33 + i % 94) for i in range(255))
    assert _post(client, b"1", key=key).status_code == 201
    assert _post(client, b"1", key=key).headers["idempotent-replayed"] == "true"


def test_keys_are_kept_for_24_hours_by_default() -> None:
    assert load_settings().idempotency_key_ttl == 24 * 3600
    assert load_settings(idempotency_key_ttl=60).idempotency_key_ttl == 60


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _doc(text: str) -> tuple[str, str]:
    """A document's text and fingerprint, as the handler hands them to storage."""
    document = parse_document(text.encode(), max_depth=100, max_bytes=1024)
    return document.text, document.fingerprint()


@pytest.mark.anyio
async def test_a_key_expires_after_its_ttl_and_then_creates_anew(database: Database) -> None:
    clock = _Clock()
    creates = IdempotentCreates(database, timedelta(hours=1), clock=clock)
    first = await creates.create(*_doc('{"a": 1}'), "k")
    clock.now += timedelta(minutes=59)
    assert await creates.create(*_doc('{"a": 1}'), "k") == type(first)(first.item_id, True)
    with pytest.raises(IdempotencyKeyReused):
        await creates.create(*_doc('{"a": 2}'), "k")
    clock.now += timedelta(minutes=2)
    fresh = await creates.create(*_doc('{"a": 2}'), "k")  # expired: the key is free again
    assert not fresh.replayed
    assert fresh.item_id != first.item_id


@pytest.mark.anyio
async def test_purge_removes_only_expired_keys(database: Database) -> None:
    clock = _Clock()
    creates = IdempotentCreates(database, timedelta(hours=1), clock=clock)
    await creates.create(*_doc("1"), "old")
    clock.now += timedelta(minutes=30)
    await creates.create(*_doc("1"), "young")
    clock.now += timedelta(minutes=45)
    assert await creates.purge_expired() == 1
    assert (await creates.create(*_doc("1"), "young")).replayed


@pytest.mark.anyio
async def test_keys_are_kept_per_principal(database: Database) -> None:
    creates = IdempotentCreates(database, timedelta(hours=1))
    alice = await creates.create(*_doc('{"a": 1}'), "k", principal="alice")
    bob = await creates.create(*_doc('{"a": 2}'), "k", principal="bob")  # another client's key
    assert alice.item_id != bob.item_id


@pytest.mark.anyio
async def test_the_database_constraint_decides_when_two_inserts_race(
    database: Database,
) -> None:
    """Both requests miss the lookup; the second insert loses on the key and rolls back."""
    creates = IdempotentCreates(database, timedelta(hours=1))
    text, fingerprint = _doc('{"a": 1}')
    winner = await creates._insert(text, "", "k", fingerprint)
    loser = await creates._insert(text, "", "k", fingerprint)
    assert winner is not None
    assert loser is None
    page, _more = await ItemStore(database).page(0, 10)
    assert [item.id for item in page] == [winner]


def test_fingerprints_compare_json_values() -> None:
    def fingerprint(text: str) -> str:
        return _doc(text)[1]

    assert fingerprint('{"a": 1, "b": 2}') == fingerprint('{"b":2,"a":1}')
    assert fingerprint("[1, 2]") != fingerprint("[2, 1]")
    assert fingerprint('"null"') != fingerprint("null")
    assert fingerprint("1.0") == fingerprint("1") == fingerprint("1e0") == fingerprint("10e-1")
    assert fingerprint("0.1") != fingerprint("0.10000000000000000001")
    assert fingerprint('"1"') != fingerprint("1")


def test_a_key_that_keeps_colliding_is_409_with_retry_after(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If every attempt loses the race and then finds no row, the client is told to retry."""

    async def nothing(*_args: object) -> None:
        return None

    monkeypatch.setattr(IdempotentCreates, "_live_row", nothing)
    monkeypatch.setattr(IdempotentCreates, "_insert", nothing)
    response = _post(client, b"1")
    assert_problem(response, 409)
    assert int(response.headers["retry-after"]) >= 1
