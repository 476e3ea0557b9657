"""Creates that happen once per Idempotency-Key, however often and however concurrently sent.

The item and its key row are inserted in one transaction, and the key's primary key
(principal, key) is what decides a race: of many requests with one key, one commits and
the others fail on the constraint, roll back their item, and answer with the winner's id.
No check-then-insert: the lookup before the insert is only a fast path for retries.
"""

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from picus.storage.engine import unavailable_as_storage_error
from picus.storage.errors import IdempotencyKeyBusy, IdempotencyKeyReused
from picus.storage.items import insert_item
from picus.storage.tables import idempotency_keys

# Each attempt either finds a live key row or inserts one; losing a race twice in a row
# needs a key that expires between two statements.
_ATTEMPTS = 3
# Expired rows are swept at most this often per process (each lookup checks expiry itself).
PURGE_INTERVAL_SECONDS = 60.0


def document_fingerprint(document: object) -> str:
    """SHA-256 of the document's canonical JSON: equal JSON values, equal fingerprints."""
    canonical = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Creation:
    """The item a keyed create stands for, and whether this request replayed an earlier one."""

    item_id: int
    replayed: bool


class IdempotentCreates:
    """Keyed creates through one engine; keys live for `ttl`."""

    def __init__(
        self,
        engine: Engine,
        ttl: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self._clock = clock
        self._next_purge = 0.0

    def create(self, document: object, key: str, principal: str = "") -> Creation:
        """Create the item once for (principal, key); a retry with the same body replays it.

        Raises IdempotencyKeyReused when the key stands for a different document.
        """
        fingerprint = document_fingerprint(document)
        self._purge_now_and_then()
        for _ in range(_ATTEMPTS):
            existing = self._live_row(principal, key)
            if existing is not None:
                item_id, known_fingerprint = existing
                if known_fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return Creation(item_id, replayed=True)
            created = self._insert(document, principal, key, fingerprint)
            if created is not None:
                return Creation(created, replayed=False)
        raise IdempotencyKeyBusy()

    def purge_expired(self) -> int:
        """Delete every expired key row; return how many went."""
        statement = idempotency_keys.delete().where(
            idempotency_keys.c.created_at < self._clock() - self.ttl
        )
        with unavailable_as_storage_error(), self.engine.begin() as conn:
            return conn.execute(statement).rowcount

    def _insert(self, document: object, principal: str, key: str, fingerprint: str) -> int | None:
        """Insert item and key together; None if another request holds the key (rolled back)."""
        row = {
            "principal": principal,
            "idempotency_key": key,
            "fingerprint": fingerprint,
            "created_at": self._clock(),
        }
        with unavailable_as_storage_error():
            try:
                with self.engine.begin() as conn:
                    item_id = insert_item(conn, document)
                    # On PostgreSQL this waits for a concurrent holder of the key to finish.
                    conn.execute(idempotency_keys.insert().values(item_id=item_id, **row))
                    return item_id
            except sa.exc.IntegrityError:
                return None

    def _live_row(self, principal: str, key: str) -> tuple[int, str] | None:
        """The key's (item id, fingerprint), or None; an expired row is removed first."""
        this_key = (
            idempotency_keys.c.principal == principal,
            idempotency_keys.c.idempotency_key == key,
        )
        query = sa.select(
            idempotency_keys.c.item_id,
            idempotency_keys.c.fingerprint,
            idempotency_keys.c.created_at,
        ).where(*this_key)
        with unavailable_as_storage_error(), self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            return None
        cutoff = self._clock() - self.ttl
        created_at = row.created_at
        if created_at.tzinfo is None:  # SQLite hands timestamps back naive; they are UTC
            created_at = created_at.replace(tzinfo=UTC)
        if created_at >= cutoff:
            return int(row.item_id), str(row.fingerprint)
        expired = idempotency_keys.delete().where(*this_key, idempotency_keys.c.created_at < cutoff)
        with unavailable_as_storage_error(), self.engine.begin() as conn:
            conn.execute(expired)
        return None

    def _purge_now_and_then(self) -> None:
        now = time.monotonic()
        if now >= self._next_purge:
            self._next_purge = now + PURGE_INTERVAL_SECONDS
            self.purge_expired()
