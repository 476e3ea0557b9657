"""Storage: SQLAlchemy Core tables, queries and the engine. Knows SQL, nothing of HTTP."""

from picus.storage.errors import ItemNotFound, StorageUnavailable, UnstorableDocument

__all__ = ["ItemNotFound", "StorageUnavailable", "UnstorableDocument"]
