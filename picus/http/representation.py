"""JSON arrays of Items as answer bodies: a page at once, the whole list as a stream."""

from collections.abc import AsyncIterator, Iterable

from picus.storage.records import StoredItem, item_json


def items_json(items: Iterable[StoredItem]) -> bytes:
    """A JSON array of Items (one page: at most 1,000)."""
    return ("[" + ",".join(item_json(item) for item in items) + "]").encode()


async def json_array(chunks: AsyncIterator[str]) -> AsyncIterator[bytes]:
    """A JSON array from pieces that are each one or more comma-joined JSON values."""
    yield b"["
    separator = ""
    async for chunk in chunks:
        yield (separator + chunk).encode()
        separator = ","
    yield b"]"
