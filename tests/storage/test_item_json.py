"""The list's fast path: Items' JSON written by PostgreSQL equals the one Python writes."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from picus.config import load_settings
from picus.representation import items_json_stream, json_array
from picus.storage.engine import create_engine
from picus.storage.items import ItemStore
from picus.storage.tables import items
from tests.storage.test_items import FIDELITY_CASES

# Whole seconds (isoformat leaves the fraction out), one microsecond, an ordinary instant.
INSTANTS = [
    datetime(2026, 11, 26, 8, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 26, 8, 0, 0, 1, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def _python_list(store: ItemStore, after: int = 0) -> bytes:
    return b"".join(items_json_stream(store.stream(after)))


def _database_list(store: ItemStore, after: int = 0) -> bytes:
    return b"".join(json_array(store.stream_json(after)))


@pytest.fixture
def pg_store(pg_url: URL) -> Iterator[ItemStore]:
    """Storage on the (emptied) session PostgreSQL: the fast path exists only there."""
    engine = create_engine(load_settings(database_url=pg_url.render_as_string(False)))
    with engine.begin() as conn:
        conn.execute(sa.delete(items))
    yield ItemStore(engine)
    engine.dispose()


def test_only_postgresql_writes_the_json(store: ItemStore) -> None:
    assert store.writes_item_json == (store.engine.dialect.name == "postgresql")


def test_postgresql_writes_the_same_bytes_as_python(pg_store: ItemStore) -> None:
    store = pg_store
    documents = [d for d in FIDELITY_CASES if d != "x" * 500_000]
    ids = [store.create(document) for document in documents]
    with store.engine.begin() as conn:
        for item_id, instant in zip(ids, INSTANTS * len(ids), strict=False):
            conn.execute(
                sa.update(items)
                .where(items.c.id == item_id)
                .values(created_at=instant, updated_at=instant)
            )
    assert _database_list(store) == _python_list(store)
    assert _database_list(store, after=ids[3]) == _python_list(store, after=ids[3])
    assert _database_list(store, after=ids[-1]) == b"[]" == _python_list(store, after=ids[-1])
