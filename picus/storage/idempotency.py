"""Creates that happen once per Idempotency-Key, however often and however concurrently sent.

The item and its key row are inserted in one transaction, and the key's primary key
(principal, key) is what decides a race: of many requests with one key, one commits and
the others fail on the constraint, roll back their item, and answer with the winner's id.
No check-then-insert: the lookup before the insert is only a fast path for retries.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from picus.errors import DuplicateKey, IdempotencyKeyBusy, IdempotencyKeyReused
from picus.storage.database import Database
from picus.storage.items import insert_item
from picus.storage.statements import statements_for

# Each attempt either finds a live key row or inserts one; losing a race twice in a row
# needs a key that expires between two statements.
_ATTEMPTS = 3
# Expired rows are swept at most this often per process (each lookup checks expiry itself).
PURGE_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Creation:
    """The item a keyed create stands for, and whether this request replayed an earlier one."""

    item_id: int
    replayed: bool


class IdempotentCreates:
    """Keyed creates through one Database; keys live for `ttl`."""

    def __init__(
        self,
        database: Database,
        ttl: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        """`changed` is called once a create has committed (the feed numbers its change)."""
        self.database = database
        self.changed = changed
        self.sql = statements_for(database.dialect)
        self.ttl = ttl
        self._clock = clock
        self._next_purge = 0.0

    async def create(
        self, document_json: str, fingerprint: str, key: str, principal: str = ""
    ) -> Creation:
        """Create the item once for (principal, key); a retry with the same body replays it.

        `fingerprint` stands for the document as a JSON value (equal values, equal
        fingerprints). Raises IdempotencyKeyReused when the key stands for another one.
        """
        await self._purge_now_and_then()
        for _ in range(_ATTEMPTS):
            existing = await self._live_row(principal, key)
            if existing is not None:
                item_id, known_fingerprint = existing
                if known_fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return Creation(item_id, replayed=True)
            created = await self._insert(document_json, principal, key, fingerprint)
            if created is not None:
                self.changed()
                return Creation(created, replayed=False)
        raise IdempotencyKeyBusy()

    async def purge_expired(self) -> int:
        """Delete every expired key row; return how many went."""
        return await self.database.execute(
            self.sql.purge_expired_keys, cutoff=self._clock() - self.ttl
        )

    async def _insert(
        self, document_json: str, principal: str, key: str, fingerprint: str
    ) -> int | None:
        """Insert item and key together; None if another request holds the key (rolled back)."""
        try:
            async with self.database.transaction() as conn:
                item_id = await insert_item(conn, self.sql, document_json)
                # On PostgreSQL this waits for a concurrent holder of the key to finish.
                await conn.execute(
                    self.sql.insert_key,
                    principal=principal,
                    key=key,
                    fingerprint=fingerprint,
                    item_id=item_id,
                    now=self._clock(),
                )
                return item_id
        except DuplicateKey:
            return None

    async def _live_row(self, principal: str, key: str) -> tuple[int, str] | None:
        """The key's (item id, fingerprint), or None; an expired row is removed first."""
        row = await self.database.fetchrow(self.sql.find_key, principal=principal, key=key)
        if row is None:
            return None
        item_id, fingerprint, created_at = row
        cutoff = self._clock() - self.ttl
        if created_at.tzinfo is None:  # SQLite hands timestamps back naive; they are UTC
            created_at = created_at.replace(tzinfo=UTC)
        if created_at >= cutoff:
            return int(item_id), str(fingerprint)
        await self.database.execute(
            self.sql.delete_expired_key, principal=principal, key=key, cutoff=cutoff
        )
        return None

    async def _purge_now_and_then(self) -> None:
        now = time.monotonic()
        if now >= self._next_purge:
            self._next_purge = now + PURGE_INTERVAL_SECONDS
            await self.purge_expired()
