"""ItemStore on both backends: what goes in comes out, ids are never reused."""

from collections.abc import Generator

import pytest
from sqlalchemy.pool import QueuePool

from picus.storage import ItemNotFound, UnstorableDocument
from picus.storage.items import ItemStore
from tests.support.json_values import same_json_value

FIDELITY_CASES = [
    {"b": 1, "a": [1, 2, {"c": None}]},
    [],
    "text",
    "null",
    0,
    2**63,
    10**30,
    0.1,
    -0.0,
    1e308,
    True,
    False,
    None,
    "emoji 🐦 rtl שלום combining e\u0301 zwj 👩\u200d💻",
    "x" * 500_000,
]


@pytest.mark.parametrize("document", FIDELITY_CASES, ids=lambda d: repr(d)[:30])
def test_a_document_comes_back_equal_as_a_json_value(store: ItemStore, document: object) -> None:
    item = store.get(store.create(document))
    assert same_json_value(item.data_json, document)


def test_timestamps_are_aware_and_equal_on_create(store: ItemStore) -> None:
    item = store.get(store.create({"a": 1}))
    assert item.created_at.utcoffset() is not None
    assert item.created_at == item.updated_at


def test_ids_are_never_reused_after_delete(store: ItemStore) -> None:
    first = store.create(1)
    second = store.create(2)
    store.delete(second)
    assert store.create(3) > second > first


def test_get_and_delete_of_an_absent_item_raise_not_found(store: ItemStore) -> None:
    with pytest.raises(ItemNotFound):
        store.get(12345)
    with pytest.raises(ItemNotFound):
        store.delete(12345)


def test_delete_removes_the_item(store: ItemStore) -> None:
    item_id = store.create({"gone": True})
    store.delete(item_id)
    with pytest.raises(ItemNotFound):
        store.get(item_id)


def test_page_is_keyset_ordered_and_says_whether_more_remain(store: ItemStore) -> None:
    ids = [store.create(n) for n in range(5)]
    page, more = store.page(after=0, limit=2)
    assert [i.id for i in page] == ids[:2]
    assert more
    page, more = store.page(after=ids[1], limit=3)
    assert [i.id for i in page] == ids[2:]
    assert not more


def test_stream_yields_every_item_after_the_cursor_in_order(store: ItemStore) -> None:
    ids = [store.create({"n": n}) for n in range(2500)]  # more than one chunk
    streamed = [item.id for item in store.stream(after=ids[9])]
    assert streamed == ids[10:]


def test_a_closed_stream_returns_its_connection_to_the_pool(store: ItemStore) -> None:
    for n in range(3):
        store.create(n)
    pool = store.engine.pool
    assert isinstance(pool, QueuePool)
    for _ in range(pool.size() + 2):  # would exhaust the pool if connections leaked
        stream = store.stream()
        assert isinstance(stream, Generator)
        next(stream)
        stream.close()
    assert pool.checkedout() == 0


def test_nul_in_a_string_is_unstorable_on_postgresql_only(store: ItemStore) -> None:
    document = {"s": "a\u0000b"}
    if store.engine.dialect.name == "postgresql":
        with pytest.raises(UnstorableDocument):
            store.create(document)
        assert store.page(0, 10) == ([], False)
    else:
        assert same_json_value(store.get(store.create(document)).data_json, document)
