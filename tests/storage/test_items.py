"""ItemStore on both backends: what goes in comes out, ids are never reused."""

import json

import pytest

from devtools.json_values import json_value, same_json_value
from picus.errors import ItemNotFound, PreconditionFailed, UnstorableDocument
from picus.storage.items import LIST_CHUNK_ITEMS, ItemStore

pytestmark = pytest.mark.anyio

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

# Numbers a float would round: they are stored as the client wrote them (the exact value).
EXACT_NUMBERS = ["0.12345678901234567890123", "1.00000000000000000001", "1e-400", "-1E+400"]


def _text(document: object) -> str:
    return json.dumps(document)


async def _list(store: ItemStore, after: int = 0) -> list[dict[str, object]]:
    chunks = [chunk async for chunk in await store.list_json(after)]
    return list(json.loads("[" + ",".join(c for c in chunks if c) + "]"))


@pytest.mark.parametrize("document", FIDELITY_CASES, ids=lambda d: repr(d)[:30])
async def test_a_document_comes_back_equal_as_a_json_value(
    store: ItemStore, document: object
) -> None:
    item = await store.get(await store.create(_text(document)))
    assert same_json_value(item.data_json, document)


@pytest.mark.parametrize("number", EXACT_NUMBERS)
async def test_a_number_keeps_its_exact_decimal_value(store: ItemStore, number: str) -> None:
    item = await store.get(await store.create(f'{{"n": {number}}}'))
    assert json_value(item.data_json) == json_value(f'{{"n": {number}}}')


async def test_timestamps_are_aware_and_equal_on_create(store: ItemStore) -> None:
    item = await store.get(await store.create('{"a": 1}'))
    assert item.created_at.utcoffset() is not None
    assert item.created_at == item.updated_at


async def test_ids_are_never_reused_after_delete(store: ItemStore) -> None:
    first = await store.create("1")
    second = await store.create("2")
    await store.delete(second)
    assert await store.create("3") > second > first


async def test_get_and_delete_of_an_absent_item_raise_not_found(store: ItemStore) -> None:
    with pytest.raises(ItemNotFound):
        await store.get(12345)
    with pytest.raises(ItemNotFound):
        await store.delete(12345)


async def test_delete_removes_the_item(store: ItemStore) -> None:
    item_id = await store.create('{"gone": true}')
    await store.delete(item_id)
    with pytest.raises(ItemNotFound):
        await store.get(item_id)


async def test_replace_and_delete_check_the_expected_version(store: ItemStore) -> None:
    item_id = await store.create('"v1"')
    with pytest.raises(PreconditionFailed):
        await store.replace(item_id, '"v2"', expected={7, 8})
    replaced = await store.replace(item_id, '"v2"', expected={1, 9})
    assert (replaced.version, replaced.data_json) == (2, '"v2"')
    with pytest.raises(PreconditionFailed):
        await store.delete(item_id, expected={1})
    await store.delete(item_id, expected={2})
    with pytest.raises(ItemNotFound):
        await store.replace(item_id, '"v3"')


async def test_page_is_keyset_ordered_and_says_whether_more_remain(store: ItemStore) -> None:
    ids = [await store.create(str(n)) for n in range(5)]
    page, more = await store.page(after=0, limit=2)
    assert [i.id for i in page] == ids[:2]
    assert more
    page, more = await store.page(after=ids[1], limit=3)
    assert [i.id for i in page] == ids[2:]
    assert not more


async def test_the_list_has_every_item_after_the_cursor_in_order(store: ItemStore) -> None:
    count = 2 * LIST_CHUNK_ITEMS + 500  # more than one chunk
    ids = [await store.create(_text({"n": n})) for n in range(count)]
    listed = await _list(store, after=ids[9])
    assert [item["id"] for item in listed] == ids[10:]
    assert listed[0]["data"] == {"n": 10}
    assert await _list(store, after=ids[-1]) == []


async def test_the_list_reads_in_chunks_and_sees_items_created_meanwhile(
    store: ItemStore,
) -> None:
    """Keyset chunks: an item created after the read began, past its position, is seen."""
    ids = [await store.create(str(n)) for n in range(LIST_CHUNK_ITEMS + 1)]
    chunks = await store.list_json()
    first = await anext(chunks)
    created_meanwhile = await store.create('"late"')
    rest = [chunk async for chunk in chunks]
    listed = json.loads("[" + ",".join([first, *rest]) + "]")
    assert [item["id"] for item in listed] == [*ids, created_meanwhile]


async def test_nul_in_a_string_is_unstorable_on_postgresql_only(store: ItemStore) -> None:
    text = '{"s": "a\\u0000b"}'
    if store.database.dialect == "postgresql":
        with pytest.raises(UnstorableDocument):
            await store.create(text)
        assert await store.page(0, 10) == ([], False)
    else:
        assert json.loads((await store.get(await store.create(text))).data_json) == {"s": "a\0b"}
