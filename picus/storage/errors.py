"""The few ways storage can fail that callers must tell apart."""


class StorageError(Exception):
    """Base class for storage failures."""


class StorageUnavailable(StorageError):
    """The database cannot be reached or did not answer in time; retrying later may work."""


class ItemNotFound(StorageError):
    """No item has the requested id."""

    def __init__(self, item_id: int) -> None:
        super().__init__(f"There is no item with id {item_id}.")
        self.item_id = item_id


class UnstorableDocument(StorageError):
    """The database refuses to keep this document (e.g. U+0000 in a PostgreSQL jsonb string)."""
