"""GET /picus/changes as JSON, on both backends: one change per committed write, in order."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from httpx import Response
from starlette.testclient import TestClient

from picus.handlers.context import SERVICES_KEY
from tests.api.helpers import assert_problem

JSON = {"Content-Type": "application/json"}


def _changes(client: TestClient, **params: object) -> list[dict[str, object]]:
    response = client.get("/picus/changes", params=params)
    assert response.status_code == 200, response.text
    changes: list[dict[str, object]] = response.json()
    return changes


def _write_one_of_each(client: TestClient) -> int:
    item_id = int(client.post("/picus/put", json={"a": 1}).json()["id"])
    assert client.put(f"/picus/{item_id}", json={"a": 2}).status_code == 200
    patch = {"Content-Type": "application/merge-patch+json"}
    assert client.patch(f"/picus/{item_id}", content=b'{"b": 3}', headers=patch).status_code == 200
    assert client.delete(f"/picus/{item_id}").status_code == 204
    return item_id


def test_every_write_is_one_change_in_commit_order(client: TestClient) -> None:
    item_id = _write_one_of_each(client)
    changes = _changes(client)
    assert [(c["id"], c["op"], c.get("version")) for c in changes] == [
        (item_id, "created", 1),
        (item_id, "updated", 2),
        (item_id, "updated", 3),
        (item_id, "deleted", None),
    ]
    seqs = [int(str(c["seq"])) for c in changes]
    assert seqs == sorted(set(seqs))
    assert "version" not in changes[-1]
    for change in changes:
        assert datetime.fromisoformat(str(change["at"])).utcoffset() == timedelta(0)


def test_a_keyed_create_is_one_change_and_its_replay_none(client: TestClient) -> None:
    headers = {**JSON, "Idempotency-Key": "once"}
    first = client.post("/picus/put", content=b"1", headers=headers)
    assert client.post("/picus/put", content=b"1", headers=headers).status_code == 201
    assert [(c["id"], c["op"]) for c in _changes(client)] == [(first.json()["id"], "created")]


def test_a_write_that_fails_leaves_no_change(client: TestClient) -> None:
    item_id = int(client.post("/picus/put", json=1).json()["id"])
    assert client.put(f"/picus/{item_id}", json=2, headers={"If-Match": '"9"'}).status_code == 412
    assert client.delete(f"/picus/{item_id}", headers={"If-Match": '"9"'}).status_code == 412
    assert client.delete("/picus/999999").status_code == 404
    assert client.post("/picus/put", content=b"{", headers=JSON).status_code == 400
    assert len(_changes(client)) == 1


def test_paging_follows_since_limit_and_link(client: TestClient) -> None:
    for n in range(5):
        client.post("/picus/put", json=n)
    everything = _changes(client)
    first = client.get("/picus/changes", params={"limit": 2})
    assert [c["seq"] for c in first.json()] == [c["seq"] for c in everything[:2]]
    last_seq = everything[1]["seq"]
    assert first.headers["link"] == f'</picus/changes?since={last_seq}&limit=2>; rel="next"'
    assert first.headers["picus-changes-latest"] == str(everything[-1]["seq"])
    rest = client.get("/picus/changes", params={"since": last_seq, "limit": 10})
    assert [c["seq"] for c in rest.json()] == [c["seq"] for c in everything[2:]]
    assert "link" not in rest.headers
    assert _changes(client, since=everything[-1]["seq"]) == []


def test_the_list_names_the_position_to_follow_from(client: TestClient) -> None:
    client.post("/picus/put", json=1)
    _changes(client)  # numbered and known to this worker
    listed = client.get("/picus/list")
    assert listed.headers["picus-changes-latest"] == str(_changes(client)[-1]["seq"])
    assert client.get("/picus/list", params={"limit": 1}).headers["picus-changes-latest"]


@pytest.mark.parametrize(
    "params",
    [{"since": -1}, {"since": "x"}, {"limit": 0}, {"limit": 1001}, {"limit": "many"}],
    ids=str,
)
def test_a_bad_position_or_limit_is_400(client: TestClient, params: dict[str, object]) -> None:
    assert_problem(client.get("/picus/changes", params=params), 400)


@pytest.mark.parametrize("last_event_id", ["x", "-1", "1.5", "99999999999999999999", " "])
def test_a_bad_last_event_id_is_400(client: TestClient, last_event_id: str) -> None:
    response = client.get("/picus/changes", headers={"Last-Event-ID": last_event_id})
    assert_problem(response, 400)


def test_last_event_id_wins_over_since(client: TestClient) -> None:
    for n in range(3):
        client.post("/picus/put", json=n)
    seqs = [c["seq"] for c in _changes(client)]
    response = client.get(
        "/picus/changes", params={"since": 0}, headers={"Last-Event-ID": str(seqs[1])}
    )
    assert [c["seq"] for c in response.json()] == seqs[2:]


@pytest.mark.parametrize("accept", ["text/html", "application/xml, text/plain"])
def test_an_accept_allowing_neither_form_is_406(client: TestClient, accept: str) -> None:
    assert_problem(client.get("/picus/changes", headers={"Accept": accept}), 406)


@pytest.mark.parametrize(
    "accept", [None, "application/json", "*/*", "application/*", "text/html, */*;q=0.1"]
)
def test_json_is_the_default_form(client: TestClient, accept: str | None) -> None:
    headers = {} if accept is None else {"Accept": accept}
    response: Response = client.get("/picus/changes", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(response.content) == []


def test_a_position_older_than_retention_is_410_with_the_position_to_follow(
    client: TestClient,
) -> None:
    for n in range(4):
        client.post("/picus/put", json=n)
    seqs = [int(str(c["seq"])) for c in _changes(client)]
    hub = client.app_state[SERVICES_KEY].hub
    assert client.portal is not None
    # Retention removes the first two: as if they were made long ago.
    removed = client.portal.call(hub.store.purge, datetime.now(UTC) + timedelta(days=1))
    assert removed == 4
    gone = client.get("/picus/changes", params={"since": seqs[0]})
    problem = assert_problem(gone, 410)
    assert str(seqs[-1]) in str(problem["detail"])
    assert gone.headers["picus-changes-latest"] == str(seqs[-1])
    assert_problem(client.get("/picus/changes"), 410)  # since=0 is older too
    assert _changes(client, since=seqs[-1]) == []  # the newest position still resumes
    client.post("/picus/put", json="after")
    assert [c["op"] for c in _changes(client, since=seqs[-1])] == ["created"]
