"""Storage: SQLAlchemy Core tables, queries and the engine. Knows SQL, nothing of HTTP."""

from picus.errors import (
    IdempotencyKeyBusy,
    IdempotencyKeyReused,
    ItemNotFound,
    PreconditionFailed,
    StorageUnavailable,
    UnstorableDocument,
)

__all__ = [
    "IdempotencyKeyBusy",
    "IdempotencyKeyReused",
    "ItemNotFound",
    "PreconditionFailed",
    "StorageUnavailable",
    "UnstorableDocument",
]
