"""The Item JSON built around the database's document text, and the arrays of it."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from picus.http.representation import items_json, json_array
from picus.storage.records import StoredItem, item_json, rfc3339

NOW = datetime(2026, 11, 26, 8, 0, 0, 123456, tzinfo=UTC)


def _item(item_id: int, data_json: str) -> StoredItem:
    return StoredItem(id=item_id, data_json=data_json, created_at=NOW, updated_at=NOW, version=1)


def test_an_item_is_valid_json_with_the_document_spliced_in() -> None:
    item = json.loads(item_json(_item(7, '{"a": [1, 2.5, "x"]}')))
    assert item == {
        "id": 7,
        "data": {"a": [1, 2.5, "x"]},
        "created_at": "2026-11-26T08:00:00.123456+00:00",
        "updated_at": "2026-11-26T08:00:00.123456+00:00",
    }


def test_a_page_is_an_array_of_items() -> None:
    assert items_json([]) == b"[]"
    assert [i["id"] for i in json.loads(items_json([_item(1, "1"), _item(2, "2")]))] == [1, 2]


@pytest.mark.anyio
async def test_a_streamed_list_joins_its_chunks_into_one_array() -> None:
    async def chunks(*texts: str) -> AsyncIterator[str]:
        for text in texts:
            yield text

    assert b"".join([p async for p in json_array(chunks())]) == b"[]"
    pieces = [p async for p in json_array(chunks("1,2", "3", "4,5"))]
    assert json.loads(b"".join(pieces)) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("microsecond", "written"),
    [(0, "08:00:00+00:00"), (1, "08:00:00.000001+00:00"), (120000, "08:00:00.12+00:00")],
)
def test_timestamps_are_written_as_postgresql_writes_them(microsecond: int, written: str) -> None:
    instant = datetime(2026, 11, 26, 8, 0, 0, microsecond, tzinfo=UTC)
    assert rfc3339(instant) == "2026-11-26T" + written
