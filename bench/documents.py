"""The benchmark's documents: about 200 bytes of JSON each, the same from every source.

The API seed, wrk's POST bodies, pgbench's insert and the SQL seed for the memory test
all store this shape, so every scenario and its baseline move the same bytes.
"""

import json

DOCUMENT_BYTES = 200
_NOTE = "picus benchmark document, padded to about two hundred bytes of JSON text "


def document(number: int) -> dict[str, object]:
    """Document number `number` (compact JSON of about DOCUMENT_BYTES bytes)."""
    doc: dict[str, object] = {
        "name": f"item-{number:07d}",
        "kind": "benchmark",
        "tags": ["alpha", "beta", "gamma"],
        "count": number,
        "price": 19.99,
        "active": True,
        "note": "",
    }
    doc["note"] = _NOTE[: DOCUMENT_BYTES - len(document_text(doc))]
    return doc


def document_text(doc: dict[str, object]) -> str:
    """Compact JSON, as a client would send it."""
    return json.dumps(doc, separators=(",", ":"))


def document_sql(series: str) -> str:
    """An SQL jsonb expression building the same document from the integer `series`."""
    note = _NOTE[: DOCUMENT_BYTES - len(document_text(document(0) | {"note": ""}))]
    return (
        f"jsonb_build_object('name', 'item-' || lpad({series}::text, 7, '0'), "
        f"'kind', 'benchmark', 'tags', '[\"alpha\", \"beta\", \"gamma\"]'::jsonb, "
        f"'count', {series}, 'price', 19.99, 'active', true, 'note', '{note}')"
    )
