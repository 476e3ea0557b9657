"""The change feed's storage: numbering committed changes, reading them, retention.

A write inserts its change row in its own transaction (picus.storage.items), without a
number. Numbering happens after commit, in `sequence_pending`, one sequencer at a time
(an advisory lock on PostgreSQL): a sequencer only sees committed rows and every number
it gives is greater than any given before, so `seq` follows commit order and a reader
that has seen `seq = S` can never later meet an unseen change numbered `S` or less. The
writers themselves never wait on each other for it (a counter locked until commit would
make every write wait for the previous one's commit).
"""

from datetime import datetime

from picus.storage.database import Database
from picus.storage.records import Change, change_from_row
from picus.storage.statements import statements_for


class ChangeStore:
    """The changes table through one Database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.sql = statements_for(database.dialect)

    async def sequence_pending(self) -> int | None:
        """Number every committed, unnumbered change; return the highest number given.

        On PostgreSQL the numbering commits with a NOTIFY carrying that number, which every
        worker's listener hears (picus.feed).
        """
        async with self.database.transaction() as conn:
            if self.database.dialect == "postgresql":
                await conn.fetchrow(self.sql.sequencer_lock)
            rows = await conn.fetch(self.sql.sequence_pending)
            newest = max((row[0] for row in rows if row[0] is not None), default=None)
            if newest is not None and self.database.dialect == "postgresql":
                await conn.fetchrow(self.sql.announce, payload=str(newest))
        return newest

    async def has_unsequenced(self) -> bool:
        """True while a committed change waits for its number."""
        return await self.database.fetchrow(self.sql.any_unsequenced) is not None

    async def after(self, since: int, limit: int) -> tuple[list[Change], bool]:
        """The changes with seq > since, at most `limit`, and whether more remain."""
        rows = await self.database.fetch(self.sql.changes_after, since=since, limit=limit + 1)
        return [change_from_row(row) for row in rows[:limit]], len(rows) > limit

    async def marks(self) -> tuple[int, int]:
        """(purged_through, latest): positions before the first are gone; the newest seq."""
        row = await self.database.fetchrow(self.sql.feed_marks)
        assert row is not None, "feed_state has its one row (migration 0003)"
        purged, newest_kept = int(row[0]), int(row[1])
        return purged, max(purged, newest_kept)  # retention may have taken every change

    async def purge(self, cutoff: datetime) -> int:
        """Remove numbered changes made before `cutoff`; return how many went."""
        async with self.database.transaction() as conn:
            rows = await conn.fetch(self.sql.purge_changes, cutoff=cutoff)
            if rows:
                through = max(int(row[0]) for row in rows)
                await conn.execute(self.sql.mark_purged, through=through)
        return len(rows)
