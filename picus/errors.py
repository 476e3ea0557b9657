"""The few ways storage can fail that callers must tell apart.

A module of its own, below both storage (which raises them) and the HTTP edge (which
answers them), so that neither imports the other.
"""


class StorageError(Exception):
    """Base class for storage failures."""


class StorageUnavailable(StorageError):
    """The database cannot be reached or did not answer in time; retrying later may work.

    `cause` is a short, bounded name for why (a metric label and a log field).
    """

    def __init__(self, detail: str, cause: str = "unknown") -> None:
        super().__init__(detail)
        self.cause = cause


class DuplicateKey(StorageError):
    """A unique constraint refused a row: another transaction holds that key."""


class ItemNotFound(StorageError):
    """No item has the requested id."""

    def __init__(self, item_id: int) -> None:
        super().__init__(f"There is no item with id {item_id}.")
        self.item_id = item_id


class UnstorableDocument(StorageError):
    """The database refuses to keep this document (e.g. U+0000 in a PostgreSQL jsonb string)."""


class PreconditionFailed(StorageError):
    """The item exists but is not at any of the versions the caller expected."""

    def __init__(self, item_id: int) -> None:
        super().__init__(
            f"Item {item_id} has changed since the version named in If-Match; "
            "read it again to get its current ETag."
        )
        self.item_id = item_id


class IdempotencyKeyReused(StorageError):
    """An Idempotency-Key already stands for a create with a different document."""

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body; "
            "use a new key for a new document."
        )


class IdempotencyKeyBusy(StorageError):
    """Requests with one Idempotency-Key kept colliding; the client may retry."""

    def __init__(self) -> None:
        super().__init__(
            "Another request with this Idempotency-Key is being processed; retry shortly."
        )
