"""The Item JSON built around the database's document text."""

import json
from datetime import UTC, datetime

from picus.representation import STREAM_BUFFER_BYTES, item_json, items_json_stream
from picus.storage.items import StoredItem

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


def test_an_empty_list_is_an_empty_array() -> None:
    assert b"".join(items_json_stream([])) == b"[]"


def test_a_long_list_is_sent_in_bounded_pieces() -> None:
    items = (_item(n, json.dumps("x" * 1000)) for n in range(1, 2001))
    pieces = list(items_json_stream(items))
    assert len(pieces) > 10
    assert max(len(p) for p in pieces) < STREAM_BUFFER_BYTES + 2000
    assert [i["id"] for i in json.loads(b"".join(pieces))] == list(range(1, 2001))
