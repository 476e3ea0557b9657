"""Strong ETags on every Item answer; If-Match (412) on PUT and DELETE; If-None-Match (304)."""

import pytest
from starlette.testclient import TestClient

from tests.api.helpers import assert_problem


def _create(client: TestClient, document: object) -> tuple[int, str]:
    response = client.post("/picus/put", json=document)
    assert response.status_code == 201, response.text
    return int(response.json()["id"]), response.headers["etag"]


def test_create_get_and_put_carry_a_strong_etag_that_follows_the_document(
    client: TestClient,
) -> None:
    item_id, created_tag = _create(client, {"v": 1})
    read_tag = client.get(f"/picus/get/{item_id}").headers["etag"]
    assert created_tag == read_tag
    assert read_tag.startswith('"')  # strong: no W/ prefix
    put_tag = client.put(f"/picus/{item_id}", json={"v": 2}).headers["etag"]
    assert put_tag != read_tag
    assert client.get(f"/picus/get/{item_id}").headers["etag"] == put_tag
    # Every write gives a new tag, so a tag never names two different documents.
    assert client.put(f"/picus/{item_id}", json={"v": 2}).headers["etag"] != put_tag


def test_put_with_the_current_tag_succeeds(client: TestClient) -> None:
    item_id, tag = _create(client, "a")
    response = client.put(f"/picus/{item_id}", json="b", headers={"If-Match": tag})
    assert response.status_code == 200
    assert response.json()["data"] == "b"


@pytest.mark.parametrize(
    "if_match",
    ["STALE", 'W/"CURRENT"', '"999"', "garbage", '"' + "9" * 40 + '"', ""],
    ids=["stale", "weak-current", "unknown", "garbage", "huge-number", "empty"],
)
def test_put_with_a_tag_that_is_not_current_is_412_and_changes_nothing(
    client: TestClient, if_match: str
) -> None:
    item_id, first = _create(client, "a")
    current = client.put(f"/picus/{item_id}", json="b").headers["etag"]
    if_match = if_match.replace("STALE", first).replace('"CURRENT"', current)
    response = client.put(f"/picus/{item_id}", json="c", headers={"If-Match": if_match})
    assert_problem(response, 412)
    item = client.get(f"/picus/get/{item_id}")
    assert item.json()["data"] == "b"
    assert item.headers["etag"] == current


@pytest.mark.parametrize("if_match", ["*", "LIST"], ids=["star", "list-with-current"])
def test_put_with_star_or_a_list_naming_the_current_tag_succeeds(
    client: TestClient, if_match: str
) -> None:
    item_id, tag = _create(client, "a")
    if_match = if_match.replace("LIST", f'"77", W/"78", {tag}')
    assert client.put(f"/picus/{item_id}", json="b", headers={"If-Match": if_match}).is_success


def test_if_match_on_an_absent_item_is_404(client: TestClient) -> None:
    assert_problem(client.put("/picus/424242", json=1, headers={"If-Match": '"1"'}), 404)
    assert_problem(client.delete("/picus/424242", headers={"If-Match": '"1"'}), 404)


def test_delete_with_a_stale_tag_is_412_and_keeps_the_item(client: TestClient) -> None:
    item_id, stale = _create(client, "a")
    client.put(f"/picus/{item_id}", json="b")
    assert_problem(client.delete(f"/picus/{item_id}", headers={"If-Match": stale}), 412)
    assert client.get(f"/picus/get/{item_id}").status_code == 200


def test_delete_with_the_current_tag_deletes(client: TestClient) -> None:
    item_id, tag = _create(client, "a")
    response = client.delete(f"/picus/{item_id}", headers={"If-Match": tag})
    assert response.status_code == 204
    assert client.get(f"/picus/get/{item_id}").status_code == 404


@pytest.mark.parametrize("if_none_match", ["CURRENT", "*", "W/CURRENT", '"77", CURRENT'])
def test_get_with_if_none_match_naming_the_current_tag_is_304_without_body(
    client: TestClient, if_none_match: str
) -> None:
    item_id, tag = _create(client, {"big": "x" * 1000})
    response = client.get(
        f"/picus/get/{item_id}", headers={"If-None-Match": if_none_match.replace("CURRENT", tag)}
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == tag
    assert "content-type" not in response.headers


def test_get_with_if_none_match_naming_an_old_tag_is_the_full_item(client: TestClient) -> None:
    item_id, old = _create(client, "a")
    client.put(f"/picus/{item_id}", json="b")
    response = client.get(f"/picus/get/{item_id}", headers={"If-None-Match": old})
    assert response.status_code == 200
    assert response.json()["data"] == "b"
    assert response.headers["etag"] != old


def test_if_none_match_on_an_absent_item_is_404(client: TestClient) -> None:
    assert_problem(client.get("/picus/get/424242", headers={"If-None-Match": "*"}), 404)
