"""The generated SDK (clients/python) against a real `picus serve` on PostgreSQL.

Every operation in the spec is driven through the SDK, and every error answer must come
back as the SDK's typed Problem (raise_on_unexpected_status is on, so an undocumented
status fails the test instead of turning into None).
"""

import asyncio
import importlib
import json
import pkgutil
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import picus_client.api
from picus_client import AuthenticatedClient, Client
from picus_client.api.changes import list_changes
from picus_client.api.items import (
    create_item,
    delete_item,
    get_item,
    list_items,
    patch_item,
    replace_item,
)
from picus_client.models import Change, ChangeOp, Created, Item, Problem
from picus_client.types import Response

from devtools.json_values import same_json_value
from devtools.servers import LiveServer
from picus.apikeys import new_key

EXERCISED = {
    create_item,
    get_item,
    list_items,
    replace_item,
    patch_item,
    delete_item,
    list_changes,
}
DOCUMENTS: list[Any] = [
    {"name": "picus", "tags": ["woodpecker"]},
    [1, 2.5, "three", None, False],
    "just a string",
    2**63,
    True,
]
ONE_MIB = 1024 * 1024


def sdk_operations() -> set[str]:
    """Every operation module the generator wrote, one per operationId in the spec."""
    names = set()
    for tag in pkgutil.iter_modules(picus_client.api.__path__, "picus_client.api."):
        package = importlib.import_module(tag.name)
        names |= {module.name for module in pkgutil.iter_modules(package.__path__)}
    return names


def created(response: Response[Created | Problem]) -> int:
    """The id of a 201 answer, checked for its Location."""
    assert response.status_code == 201, response.content
    assert isinstance(response.parsed, Created)
    assert response.headers["Location"] == f"/picus/get/{response.parsed.id}"
    return response.parsed.id


def problem(response: Response[Any]) -> Problem:
    """The typed problem of an error answer, checked against the status it came with."""
    assert isinstance(response.parsed, Problem), (response.status_code, response.content)
    assert response.parsed.status == response.status_code
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.parsed


def next_after(response: Response[Any]) -> int | None:
    """The `after` cursor of the `Link: <...>; rel="next"` header, if there is one."""
    link = response.headers.get("Link")
    if link is None:
        return None
    url, rel = link.split(";")
    assert rel.strip() == 'rel="next"'
    return int(parse_qs(urlsplit(url.strip("<> ")).query)["after"][0])


def test_every_operation_in_the_spec_is_exercised_here() -> None:
    """A new operation in the spec (so in the regenerated SDK) must be added to these tests."""
    exercised = {module.__name__.rsplit(".", 1)[1] for module in EXERCISED}
    assert sdk_operations() == exercised


def test_store_read_list_and_delete(sdk: Client) -> None:
    ids = [created(create_item.sync_detailed(client=sdk, body=doc)) for doc in DOCUMENTS]
    assert ids == sorted(ids)

    for item_id, doc in zip(ids, DOCUMENTS, strict=True):
        item = get_item.sync(item_id, client=sdk)
        assert isinstance(item, Item)
        assert item.id == item_id
        assert same_json_value(json.dumps(item.data), doc)
        assert item.created_at.tzinfo is not None

    everything = list_items.sync(client=sdk)
    assert isinstance(everything, list)
    assert [item.id for item in everything] == ids

    paged: list[int] = []
    after: int | None = 0
    for _ in range(len(ids) + 1):  # bounded: one page more than needed at most
        assert after is not None
        page = list_items.sync_detailed(client=sdk, limit=2, after=after)
        assert page.status_code == 200
        assert isinstance(page.parsed, list)
        assert len(page.parsed) <= 2
        paged += [item.id for item in page.parsed]
        after = next_after(page)
        if after is None:
            break
    assert paged == ids

    deleted = delete_item.sync_detailed(ids[0], client=sdk)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert problem(get_item.sync_detailed(ids[0], client=sdk)).status == 404
    assert problem(delete_item.sync_detailed(ids[0], client=sdk)).status == 404


def test_replace_with_etags(sdk: Client) -> None:
    first = create_item.sync_detailed(client=sdk, body={"v": 1})
    item_id = created(first)
    tag = first.headers["ETag"]

    read = get_item.sync_detailed(item_id, client=sdk)
    assert read.headers["ETag"] == tag
    not_modified = get_item.sync_detailed(item_id, client=sdk, if_none_match=tag)
    assert not_modified.status_code == 304
    assert not_modified.parsed is None

    replaced = replace_item.sync_detailed(item_id, client=sdk, body={"v": 2}, if_match=tag)
    assert replaced.status_code == 200
    assert isinstance(replaced.parsed, Item)
    assert replaced.parsed.data == {"v": 2}
    assert replaced.parsed.updated_at >= replaced.parsed.created_at
    new_tag = replaced.headers["ETag"]
    assert new_tag != tag

    stale = replace_item.sync_detailed(item_id, client=sdk, body={"v": 3}, if_match=tag)
    assert problem(stale).status == 412
    assert problem(delete_item.sync_detailed(item_id, client=sdk, if_match=tag)).status == 412
    current = get_item.sync(item_id, client=sdk)
    assert isinstance(current, Item)
    assert current.data == {"v": 2}

    assert delete_item.sync_detailed(item_id, client=sdk, if_match=new_tag).status_code == 204
    assert problem(replace_item.sync_detailed(item_id, client=sdk, body=1)).status == 404


def test_patch_and_the_json_feed(sdk: Client) -> None:
    item_id = created(create_item.sync_detailed(client=sdk, body={"a": 1, "b": {"c": 2}}))
    patched = patch_item.sync_detailed(item_id, client=sdk, body={"b": {"c": None, "d": 3}})
    assert patched.status_code == 200
    assert isinstance(patched.parsed, Item)
    assert patched.parsed.data == {"a": 1, "b": {"d": 3}}
    stale = patch_item.sync_detailed(item_id, client=sdk, body={"a": 2}, if_match='"1"')
    assert problem(stale).status == 412

    page = list_changes.sync_detailed(client=sdk, limit=1)
    assert page.status_code == 200
    assert isinstance(page.parsed, list)
    (first,) = page.parsed
    assert isinstance(first, Change)
    assert (first.id, first.op, first.version) == (item_id, ChangeOp.CREATED, 1)
    assert page.headers["Link"].startswith(f"</picus/changes?since={first.seq}&limit=1>")
    rest = list_changes.sync(client=sdk, since=first.seq)
    assert isinstance(rest, list)
    assert [(c.op, c.version) for c in rest] == [(ChangeOp.UPDATED, 2)]
    assert problem(list_changes.sync_detailed(client=sdk, last_event_id="x")).status == 400


def test_idempotent_create(sdk: Client) -> None:
    key = f"sdk-test-{uuid.uuid4()}"
    first = create_item.sync_detailed(client=sdk, body={"order": 7}, idempotency_key=key)
    retry = create_item.sync_detailed(client=sdk, body={"order": 7}, idempotency_key=key)
    assert created(retry) == created(first)
    assert retry.headers["Idempotent-Replayed"] == "true"
    other_body = create_item.sync_detailed(client=sdk, body={"order": 8}, idempotency_key=key)
    assert problem(other_body).status == 422
    everything = list_items.sync(client=sdk)
    assert isinstance(everything, list)
    assert len(everything) == 1


def test_errors_come_back_as_typed_problems(sdk: Client) -> None:
    assert problem(get_item.sync_detailed(2**62, client=sdk)).status == 404
    assert problem(delete_item.sync_detailed(2**62, client=sdk)).status == 404
    assert problem(list_items.sync_detailed(client=sdk, limit=0)).status == 400
    assert problem(list_items.sync_detailed(client=sdk, limit=1001)).status == 400

    too_deep: Any = 0
    for _ in range(101):
        too_deep = [too_deep]
    assert problem(create_item.sync_detailed(client=sdk, body=too_deep)).status == 400
    assert problem(create_item.sync_detailed(client=sdk, body="\u0000")).status == 400

    too_large = "x" * ONE_MIB  # a JSON string one MiB long, plus its quotes
    assert problem(create_item.sync_detailed(client=sdk, body=too_large)).status == 413
    item_id = created(create_item.sync_detailed(client=sdk, body="small"))
    assert problem(replace_item.sync_detailed(item_id, client=sdk, body=too_large)).status == 413

    everything = list_items.sync(client=sdk)
    assert isinstance(everything, list)
    assert [item.id for item in everything] == [item_id]


def test_api_keys(pg_env: dict[str, str], tmp_path: Path) -> None:
    """With keys configured: no key is 401, a read key cannot write (403), a write key can."""
    read_key, read_entry = new_key("read")
    write_key, write_entry = new_key("write")
    env = {**pg_env, "PICUS_API_KEYS": f"{read_entry.line()},{write_entry.line()}"}
    with LiveServer(env, log_path=tmp_path / "server.log") as server:
        url = f"{server.url}/picus"
        timeout = httpx.Timeout(10.0)
        with (
            Client(base_url=url, timeout=timeout) as anonymous,
            AuthenticatedClient(base_url=url, token=read_key, timeout=timeout) as reader,
            AuthenticatedClient(base_url=url, token=write_key, timeout=timeout) as writer,
        ):
            assert problem(list_items.sync_detailed(client=anonymous)).status == 401
            assert problem(create_item.sync_detailed(client=reader, body=1)).status == 403
            assert list_items.sync(client=reader) == []
            item_id = created(create_item.sync_detailed(client=writer, body=1))
            assert problem(get_item.sync_detailed(item_id, client=anonymous)).status == 401
            assert isinstance(get_item.sync(item_id, client=reader), Item)


def test_async_functions(live_server: LiveServer) -> None:
    async def round_trip() -> Item | Problem | None:
        async with Client(base_url=f"{live_server.url}/picus", timeout=httpx.Timeout(10.0)) as sdk:
            response = await create_item.asyncio_detailed(client=sdk, body={"async": True})
            return await get_item.asyncio(created(response), client=sdk)

    item = asyncio.run(round_trip())
    assert isinstance(item, Item)
    assert item.data == {"async": True}
