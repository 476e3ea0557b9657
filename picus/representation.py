"""The JSON shape of an Item, built around the document text the database hands back.

The document is spliced in as the database wrote it (it is valid JSON by construction),
so reads never parse and re-serialise a stored document.
"""

from collections.abc import Iterable, Iterator

from picus.storage.items import StoredItem

# Large enough that a long list is sent in few ASGI messages, small enough to stay flat.
STREAM_BUFFER_BYTES = 64 * 1024


def item_json(item: StoredItem) -> bytes:
    """One Item as JSON bytes."""
    return (
        f'{{"id":{item.id},"data":{item.data_json},'
        f'"created_at":"{item.created_at.isoformat()}",'
        f'"updated_at":"{item.updated_at.isoformat()}"}}'
    ).encode()


def items_json_stream(items: Iterable[StoredItem]) -> Iterator[bytes]:
    """A JSON array of Items, produced in buffered pieces so memory stays flat."""
    buffer = bytearray(b"[")
    separator = b""
    for item in items:
        buffer += separator
        buffer += item_json(item)
        separator = b","
        if len(buffer) >= STREAM_BUFFER_BYTES:
            yield bytes(buffer)
            buffer.clear()
    buffer += b"]"
    yield bytes(buffer)


def json_array(chunks: Iterable[str]) -> Iterator[bytes]:
    """A JSON array from pieces that are each one or more comma-joined JSON values."""
    yield b"["
    separator = b""
    for chunk in chunks:
        yield separator + chunk.encode()
        separator = b","
    yield b"]"
