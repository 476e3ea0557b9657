"""GET /picus/get/{id}, GET /picus/list (streamed and keyset pages), DELETE /picus/{id}."""

import re
from datetime import datetime

import pytest
from starlette.testclient import TestClient

from tests.api.helpers import assert_problem

BAD_IDS = ["abc", "0", "-1", "1.5", "9223372036854775808", "99999999999999999999", "9" * 5000]


def _create(client: TestClient, document: object) -> int:
    response = client.post("/picus/put", json=document)
    assert response.status_code == 201
    return int(response.json()["id"])


def test_get_returns_the_item(client: TestClient) -> None:
    item_id = _create(client, {"k": "v"})
    response = client.get(f"/picus/get/{item_id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    item = response.json()
    assert set(item) == {"id", "data", "created_at", "updated_at"}
    assert item["id"] == item_id
    assert item["data"] == {"k": "v"}
    created = datetime.fromisoformat(item["created_at"])
    assert created.utcoffset() is not None
    assert item["updated_at"] == item["created_at"]


def test_get_of_an_absent_item_is_404(client: TestClient) -> None:
    body = assert_problem(client.get("/picus/get/424242"), 404)
    assert "424242" in str(body["detail"])


@pytest.mark.parametrize("bad_id", BAD_IDS, ids=lambda i: i[:22])
def test_get_with_a_bad_id_is_400_never_5xx(client: TestClient, bad_id: str) -> None:
    assert_problem(client.get(f"/picus/get/{bad_id}"), 400)


def test_the_largest_id_is_valid_and_simply_absent(client: TestClient) -> None:
    assert_problem(client.get(f"/picus/get/{2**63 - 1}"), 404)


def test_delete_answers_204_with_no_body_then_the_item_is_gone(client: TestClient) -> None:
    item_id = _create(client, [1, 2])
    response = client.delete(f"/picus/{item_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert_problem(client.get(f"/picus/get/{item_id}"), 404)
    assert_problem(client.delete(f"/picus/{item_id}"), 404)


@pytest.mark.parametrize("bad_id", BAD_IDS, ids=lambda i: i[:22])
def test_delete_with_a_bad_id_is_400(client: TestClient, bad_id: str) -> None:
    assert_problem(client.delete(f"/picus/{bad_id}"), 400)


def test_list_returns_every_item_by_id_ascending(client: TestClient) -> None:
    assert client.get("/picus/list").json() == []
    ids = [_create(client, {"n": n}) for n in range(5)]
    client.delete(f"/picus/{ids[2]}")
    response = client.get("/picus/list")
    assert response.status_code == 200
    assert "link" not in response.headers
    items = response.json()
    assert [i["id"] for i in items] == [ids[0], ids[1], ids[3], ids[4]]
    assert [i["data"] for i in items] == [{"n": 0}, {"n": 1}, {"n": 3}, {"n": 4}]


def test_list_without_limit_but_with_after_streams_the_rest(client: TestClient) -> None:
    ids = [_create(client, n) for n in range(4)]
    items = client.get("/picus/list", params={"after": ids[1]}).json()
    assert [i["id"] for i in items] == ids[2:]


def test_pages_follow_the_link_header_until_none_remains(client: TestClient) -> None:
    ids = [_create(client, n) for n in range(7)]
    seen: list[int] = []
    url: str | None = "/picus/list?limit=3"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.json()
        assert len(page) <= 3
        seen += [i["id"] for i in page]
        pages += 1
        link = response.headers.get("link")
        if link is None:
            url = None
        else:
            match = re.fullmatch(r'<(/picus/list\?after=(\d+)&limit=3)>; rel="next"', link)
            assert match, link
            assert int(match.group(2)) == page[-1]["id"]
            url = match.group(1)
    assert seen == ids
    assert pages == 3


def test_a_page_that_ends_exactly_at_the_last_item_has_no_link(client: TestClient) -> None:
    ids = [_create(client, n) for n in range(2)]
    response = client.get("/picus/list", params={"limit": 2})
    assert [i["id"] for i in response.json()] == ids
    assert "link" not in response.headers


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "-5"},
        {"limit": "ten"},
        {"after": "-1"},
        {"after": "abc"},
        {"after": "9223372036854775808"},
        {"after": "1e3"},
    ],
    ids=str,
)
def test_list_with_a_bad_limit_or_after_is_400(client: TestClient, params: dict[str, str]) -> None:
    assert_problem(client.get("/picus/list", params=params), 400)


@pytest.mark.parametrize("limit", ["1", "1000"])
def test_list_accepts_the_limit_bounds(client: TestClient, limit: str) -> None:
    _create(client, 1)
    assert client.get("/picus/list", params={"limit": limit}).status_code == 200
