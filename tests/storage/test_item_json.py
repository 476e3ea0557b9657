"""The list's fast path: Items' JSON written by PostgreSQL equals the one Python writes."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from picus.config import load_settings
from picus.storage.database import open_database
from picus.storage.engine import create_engine
from picus.storage.items import ItemStore
from picus.storage.records import item_json
from picus.storage.tables import items
from tests.storage.test_items import FIDELITY_CASES

pytestmark = pytest.mark.anyio

# Whole seconds (isoformat leaves the fraction out), one microsecond, an ordinary instant.
INSTANTS = [
    datetime(2026, 11, 26, 8, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 26, 8, 0, 0, 1, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 11, 26, 8, 0, 0, 120000, tzinfo=UTC),  # trailing zeros in the fraction
    datetime(2026, 11, 26, 8, 0, 0, 100, tzinfo=UTC),
]


@pytest.fixture
async def pg_store(pg_url: URL) -> AsyncIterator[ItemStore]:
    """Storage on the (emptied) session PostgreSQL: the fast path exists only there."""
    settings = load_settings(database_url=pg_url.render_as_string(False))
    engine = create_engine(settings)
    with engine.begin() as conn:
        conn.execute(sa.delete(items))
    engine.dispose()
    database = await open_database(settings)
    yield ItemStore(database)
    await database.close()


async def _database_list(store: ItemStore, after: int = 0) -> str:
    return ",".join([chunk async for chunk in await store.list_json(after)])


async def _python_list(store: ItemStore, after: int = 0) -> str:
    page, _more = await store.page(after, 1000)
    return ",".join(item_json(item) for item in page)


async def test_postgresql_writes_the_same_text_as_python(pg_store: ItemStore) -> None:
    store = pg_store
    assert store.sql.list_chunk is not None, "PostgreSQL writes the list's JSON itself"
    documents = [d for d in FIDELITY_CASES if d != "x" * 500_000]
    ids = [await store.create(json.dumps(document)) for document in documents]
    for item_id, instant in zip(ids, INSTANTS * len(ids), strict=False):
        statement = sa.update(items).where(items.c.id == sa.bindparam("item_id"))
        await store.database.execute(
            statement.values(created_at=instant, updated_at=instant), item_id=item_id
        )
    assert await _database_list(store) == await _python_list(store)
    assert await _database_list(store, after=ids[3]) == await _python_list(store, after=ids[3])
    assert await _database_list(store, after=ids[-1]) == "" == await _python_list(store, ids[-1])
