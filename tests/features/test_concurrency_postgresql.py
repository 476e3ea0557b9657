"""Real concurrency on PostgreSQL: the database, not the application, picks the one winner.

Threads send requests at once (released by a barrier) to a real `picus serve` with two
workers, and storage is raced directly with a transaction held open on another connection.
"""

import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import anyio
import httpx
import pytest
import sqlalchemy as sa
from anyio.abc import TaskGroup
from sqlalchemy.engine import URL, Engine

from devtools.servers import LiveServer
from picus.config import load_settings
from picus.documents import Document
from picus.errors import PreconditionFailed
from picus.storage.database import Database, open_database
from picus.storage.engine import create_engine
from picus.storage.idempotency import Creation, IdempotentCreates
from picus.storage.items import ItemStore
from picus.storage.tables import idempotency_keys, items

T = TypeVar("T")
TIMEOUT = 20.0


@pytest.fixture(scope="module")
def server(pg_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`picus serve --workers 2` on the session PostgreSQL database."""
    env = {"DATABASE_URL": pg_url.render_as_string(hide_password=False)}
    log = tmp_path_factory.mktemp("concurrency") / "server.log"
    with LiveServer(env, workers=2, log_path=log) as live:
        yield live


@pytest.fixture
def pg_engine(pg_url: URL) -> Iterator[Engine]:
    engine = create_engine(load_settings(database_url=pg_url.render_as_string(hide_password=False)))
    yield engine
    engine.dispose()


def _all_at_once(count: int, call: Callable[[httpx.Client], T]) -> list[T]:
    """Run `call` in `count` threads released together; every thread has its own client."""
    barrier = threading.Barrier(count, timeout=TIMEOUT)

    def run(_index: int) -> T:
        with httpx.Client(timeout=TIMEOUT) as client:
            barrier.wait()
            return call(client)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.parametrize(("writers", "rounds"), [(2, 5), (8, 2)])
def test_of_writers_holding_the_same_etag_exactly_one_wins(
    server: LiveServer, writers: int, rounds: int
) -> None:
    for _ in range(rounds):
        with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
            item_id = client.post("/picus/put", json={"writer": None}).json()["id"]
            etag = client.get(f"/picus/get/{item_id}").headers["etag"]

        def write(http: httpx.Client, item_id: int = item_id, etag: str = etag) -> tuple[int, str]:
            writer = str(threading.get_ident())
            response = http.put(
                f"{server.url}/picus/{item_id}", json={"writer": writer}, headers={"If-Match": etag}
            )
            return response.status_code, writer

        results = _all_at_once(writers, write)
        assert sorted(status for status, _ in results) == [200] + [412] * (writers - 1)
        (winner,) = [writer for status, writer in results if status == 200]
        with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
            assert client.get(f"/picus/get/{item_id}").json()["data"] == {"writer": winner}


def test_twenty_concurrent_creates_with_one_key_make_one_item(server: LiveServer) -> None:
    key = f"retry-storm-{datetime.now(UTC).timestamp()}"

    def create(http: httpx.Client) -> httpx.Response:
        return http.post(
            f"{server.url}/picus/put", json={"order": 42}, headers={"Idempotency-Key": key}
        )

    responses = _all_at_once(20, create)
    assert {response.status_code for response in responses} == {201}
    ids = {response.json()["id"] for response in responses}
    assert len(ids) == 1
    (item_id,) = ids
    assert {response.headers["location"] for response in responses} == {f"/picus/get/{item_id}"}
    replayed = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
    assert len(replayed) == 19
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        listed = client.get("/picus/list").json()
    assert [item["id"] for item in listed if item["data"] == {"order": 42}] == [item_id]


@pytest.fixture
async def pg_database(pg_url: URL) -> AsyncIterator[Database]:
    database = await open_database(load_settings(database_url=pg_url.render_as_string(False)))
    yield database
    await database.close()


async def _still_waiting(
    call: Callable[[], Awaitable[T]], task_group: TaskGroup
) -> list[T | Exception]:
    """Start `call`; check it has not finished after half a second (it waits on a lock).

    The list it returns gets the call's result, or its exception, once it ends.
    """
    results: list[T | Exception] = []

    async def run() -> None:
        try:
            results.append(await call())
        except Exception as exc:  # the outcome under test
            results.append(exc)

    task_group.start_soon(run)
    await anyio.sleep(0.5)
    assert not results, "it did not wait for the other transaction"
    return results


@pytest.mark.anyio
async def test_a_conditional_update_waits_for_a_concurrent_one_and_then_fails(
    pg_engine: Engine, pg_database: Database
) -> None:
    store = ItemStore(pg_database)
    item_id = await store.create('"v1"')
    with pg_engine.connect() as other:
        other.begin()
        other.execute(
            items.update()
            .where(items.c.id == item_id, items.c.version == 1)
            .values(version=items.c.version + 1, data="other")
        )
        # The row is locked by `other`: this UPDATE ... WHERE version = ANY({1}) must wait.
        async with anyio.create_task_group() as group:
            results = await _still_waiting(lambda: store.replace(item_id, '"mine"', {1}), group)
            other.commit()
    (outcome,) = results
    assert isinstance(outcome, PreconditionFailed)
    item = await store.get(item_id)
    assert (item.data_json, item.version) == ('"other"', 2)


@pytest.mark.anyio
async def test_a_keyed_create_waits_for_a_concurrent_holder_of_the_key_and_replays_it(
    pg_engine: Engine, pg_database: Database
) -> None:
    creates = IdempotentCreates(pg_database, timedelta(hours=1))
    key = f"held-{datetime.now(UTC).timestamp()}"
    fingerprint = Document('{"a": 1}', {"a": 1}).fingerprint()
    with pg_engine.connect() as other:
        other.begin()
        held_id = await ItemStore(pg_database).create('"placeholder"')  # the holder's item
        other.execute(
            idempotency_keys.insert().values(
                principal="",
                idempotency_key=key,
                fingerprint=fingerprint,
                item_id=held_id,
                created_at=datetime.now(UTC),
            )
        )
        async with anyio.create_task_group() as group:
            results = await _still_waiting(
                lambda: creates.create('{"a": 1}', fingerprint, key), group
            )  # blocked on the uncommitted key
            other.commit()
    (creation,) = results
    assert isinstance(creation, Creation)
    assert creation.item_id == held_id
    assert creation.replayed
    with pg_engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(idempotency_keys)
            .where(idempotency_keys.c.idempotency_key == key)
        ).scalar_one()
    assert count == 1


def test_twenty_concurrent_patches_of_one_item_all_apply(server: LiveServer) -> None:
    """Each PATCH sets its own member; merged one after the other, none is lost."""
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        item_id = client.post("/picus/put", json={"base": True}).json()["id"]
        # The newest position, whatever earlier tests left in the feed (or purged from it).
        since = client.get("/picus/changes", params={"since": 2**62}).headers[
            "picus-changes-latest"
        ]

    def patch(http: httpx.Client) -> httpx.Response:
        member = f"m{threading.get_ident()}"
        return http.patch(
            f"{server.url}/picus/{item_id}",
            content=f'{{"{member}": 1}}'.encode(),
            headers={"Content-Type": "application/merge-patch+json"},
        )

    responses = _all_at_once(20, patch)
    assert {response.status_code for response in responses} == {200}
    assert sorted(int(r.headers["etag"].strip('"')) for r in responses) == list(range(2, 22))
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        data = client.get(f"/picus/get/{item_id}").json()["data"]
        changes = client.get("/picus/changes", params={"since": since}).json()
    assert len(data) == 21  # base + the twenty members
    mine = [c for c in changes if c["id"] == item_id]
    assert [c["op"] for c in mine] == ["updated"] * 20
    assert [c["version"] for c in mine] == list(range(2, 22))


def test_the_server_log_has_no_tracebacks(server: LiveServer) -> None:
    assert server.log_path is not None
    assert "Traceback" not in Path(server.log_path).read_text(errors="replace")
