"""An item as storage hands it back, and its JSON built around the stored document text.

The document is spliced in as the database wrote it (valid JSON by construction), so a
read never parses and re-serialises a stored document. On PostgreSQL the long list has the
database write the same bytes (picus.storage.item_json); everything else uses `item_json`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class StoredItem:
    """One row as read back: the document is JSON text, timestamps are aware (UTC)."""

    id: int
    data_json: str
    created_at: datetime
    updated_at: datetime
    version: int


def from_row(row: Sequence[Any]) -> StoredItem:
    """A row of `statements.ITEM_COLUMNS` as a StoredItem."""
    item_id, data_json, created, updated, version = row
    # SQLite hands timestamps back naive; they were written in UTC.
    if created.tzinfo is None:
        created, updated = created.replace(tzinfo=UTC), updated.replace(tzinfo=UTC)
    return StoredItem(item_id, data_json, created, updated, version)


def item_json(item: StoredItem) -> str:
    """One Item as JSON text (the shape of the spec's `Item`)."""
    return (
        f'{{"id":{item.id},"data":{item.data_json},'
        f'"created_at":"{rfc3339(item.created_at)}",'
        f'"updated_at":"{rfc3339(item.updated_at)}"}}'
    )


def rfc3339(instant: datetime) -> str:
    """An aware timestamp as PostgreSQL writes one in JSON: no trailing zeros in the fraction.

    (`2026-11-26T08:00:00.12+00:00`, `2026-11-26T08:00:00+00:00`), so that an Item read on
    its own and one in the list PostgreSQL writes (picus.storage.item_json) are alike.
    """
    text = instant.isoformat()
    if instant.microsecond and text[25] == "0":  # "YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM"
        return text[:20] + text[20:26].rstrip("0") + text[26:]
    return text


@dataclass(frozen=True, slots=True)
class Change:
    """One numbered change of the feed."""

    seq: int
    item_id: int
    op: str
    version: int | None
    at: datetime


def change_from_row(row: Sequence[Any]) -> Change:
    """A row of `statements.CHANGE_COLUMNS` as a Change."""
    seq, item_id, op, version, at = row
    if at.tzinfo is None:  # SQLite: written in UTC
        at = at.replace(tzinfo=UTC)
    return Change(seq, item_id, op, version, at)


def change_json(change: Change) -> str:
    """One Change as one line of JSON (the spec's `Change`: no `version` for a delete)."""
    version = "" if change.version is None else f',"version":{change.version}'
    return (
        f'{{"seq":{change.seq},"id":{change.item_id},"op":"{change.op}"{version},'
        f'"at":"{rfc3339(change.at)}"}}'
    )
