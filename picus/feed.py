"""One worker's view of the change feed, shared by every stream the worker serves.

- After a write commits, `changed()` has the sequencer number it (picus.storage.changes),
  soon and at most one run at a time per worker.
- The newest `seq` reaches the hub without a query per stream: on PostgreSQL from the
  NOTIFY each numbering commits with (one listening connection per worker); on the
  embedded SQLite by a light poll. The hub then reads the new changes once, keeps the
  recent ones in memory, and wakes every waiting stream.
- A stream asks `changes_after(position)`: from memory when its position is recent, from
  the database (a short query, no connection held afterwards) when it is catching up.
- A safety sweep numbers changes a killed worker committed but never numbered, and the
  listener reconnects by itself after an outage; retention runs now and then.
"""

import asyncio
import bisect
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from picus.errors import StorageError
from picus.storage.changes import ChangeStore
from picus.storage.database import Database
from picus.storage.records import Change

logger = logging.getLogger("picus.feed")

# Changes kept in memory for streams that are close to the head.
RECENT_CHANGES = 4096
# A page of changes read from the database at once.
PAGE = 1000
# How often the embedded SQLite default polls for new changes.
POLL_S = 0.5
# How often a worker checks for committed changes nobody numbered (a killed worker's).
SWEEP_S = 2.0
# How long a lost listening connection waits before connecting again (at most).
RECONNECT_MAX_S = 5.0
# How often retention runs.
PURGE_EVERY_S = 300.0


class ChangeHub:
    """The feed's head in this worker: numbering, the newest changes, and their waiters."""

    def __init__(self, store: ChangeStore, database: Database, retention: timedelta) -> None:
        self.store = store
        self.database = database
        self.retention = retention
        self.tail = 0  # the newest seq this worker knows (a lower bound of the truth)
        self._known = False  # until the first read of the head, ask the database
        self._recent: list[Change] = []  # every change in (floor, tail], by seq
        self._seqs: list[int] = []
        self._floor = 0
        self._advanced = asyncio.Event()
        self._closing = asyncio.Event()
        self._reading = asyncio.Lock()
        self._sequencing: asyncio.Task[None] | None = None
        self._again = False
        self._tasks: list[asyncio.Task[None]] = []
        self._passing: set[asyncio.Future[None]] = set()  # short tasks, kept until done
        self._failing: str | None = None  # the last duty failure reported (once, not per try)

    # Life of the hub -------------------------------------------------------------------

    async def start(self) -> None:
        """Learn the head (if the database answers) and start the background duties."""
        await self._read_head()
        if self.database.dialect == "postgresql":
            self._spawn(self._listen_forever())
            self._spawn(self._every(SWEEP_S, self._sweep))
        else:
            self._spawn(self._every(POLL_S, self._read_head))
        self._spawn(self._every(PURGE_EVERY_S, self._purge))

    def close(self) -> None:
        """End every stream now (the server is stopping); the hub stays readable."""
        self._closing.set()
        self._wake()

    async def stop(self) -> None:
        """Stop the background duties and wait until none is left running (the app is
        stopping: the database closes next, and no query of theirs may outlive it)."""
        self.close()
        running = [*self._tasks, *self._passing]
        if self._sequencing is not None:
            running.append(self._sequencing)
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    @property
    def closing(self) -> bool:
        """True once the server is stopping."""
        return self._closing.is_set()

    # Writers ---------------------------------------------------------------------------

    def changed(self) -> None:
        """A write committed: number its change soon (one run at a time; runs batch)."""
        if self._sequencing is not None and not self._sequencing.done():
            self._again = True
            return
        self._sequencing = asyncio.get_running_loop().create_task(self._sequence())

    async def _sequence(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            try:
                newest = await self.store.sequence_pending()
            except Exception as exc:  # the sweep numbers it once the database is back
                self._report(exc)
                return
            if newest is not None:
                await self._advance(newest)

    async def catch_up(self) -> None:
        """Number what has committed but waits for its number, before a reader reads.

        So a client that reads the feed after its own write (on any worker) finds it.
        """
        if await self.store.has_unsequenced():
            newest = await self.store.sequence_pending()
            if newest is not None:
                await self._advance(newest)

    # Readers ---------------------------------------------------------------------------

    @property
    def advanced(self) -> asyncio.Event:
        """Set once when the head next moves (take it before reading, then wait on it)."""
        return self._advanced

    async def changes_after(self, position: int, limit: int = PAGE) -> list[Change]:
        """Up to `limit` changes after `position`, oldest first ([] when there is none yet)."""
        if self._known and self._floor <= position:
            if position >= self.tail:
                return []
            start = bisect.bisect_right(self._seqs, position)
            return self._recent[start : start + limit]
        changes, _more = await self.store.after(position, limit)
        return changes

    # Following the head ----------------------------------------------------------------

    async def _read_head(self) -> None:
        try:
            _purged, latest = await self.store.marks()
        except Exception as exc:  # at start-up too: the app serves, the feed catches up later
            self._report(exc)
            return
        if not self._known:
            self.tail = self._floor = latest
            self._known = True
            self._wake()
        elif latest > self.tail:
            await self._advance(latest)

    async def _advance(self, newest: int) -> None:
        """Read the changes up to `newest` once, keep them, and wake the streams."""
        async with self._reading:
            if not self._known:
                await self._read_head()
                return
            while self.tail < newest:
                try:
                    changes, _more = await self.store.after(self.tail, PAGE)
                except Exception as exc:
                    self._report(exc)
                    return
                if not changes:
                    break
                self._keep(changes)
                self._wake()

    def _keep(self, changes: list[Change]) -> None:
        self._recent.extend(changes)
        self._seqs.extend(change.seq for change in changes)
        self.tail = changes[-1].seq
        excess = len(self._recent) - RECENT_CHANGES
        if excess > RECENT_CHANGES // 4:  # trim in batches, not on every change
            self._floor = self._seqs[excess - 1]
            del self._recent[:excess], self._seqs[:excess]

    def _wake(self) -> None:
        woken, self._advanced = self._advanced, asyncio.Event()
        woken.set()

    # Background duties -----------------------------------------------------------------

    async def _listen_forever(self) -> None:
        """Hold this worker's one listening connection; connect again whenever it drops."""
        delay = 0.1
        while not self._closing.is_set():
            lost = asyncio.Event()
            try:
                close = await self.database.listen(self._heard, lost.set)
            except Exception as exc:
                self._report(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)
                continue
            delay = 0.1
            try:
                await self._read_head()  # whatever was announced while nobody listened
                await lost.wait()
            finally:
                await close()

    def _heard(self, payload: str) -> None:
        if payload.isdigit():
            self._spawn(self._advance(int(payload)), keep=False)

    async def _sweep(self) -> None:
        if await self.store.has_unsequenced():
            self.changed()

    async def _purge(self) -> None:
        removed = await self.store.purge(datetime.now(UTC) - self.retention)
        if removed:
            logger.info("removed %d changes older than the retention", removed)

    async def _every(self, seconds: float, duty: Callable[[], Awaitable[None]]) -> None:
        while not self._closing.is_set():
            await asyncio.sleep(seconds)
            try:
                await duty()
            except Exception as exc:  # a background duty must outlive any failure
                self._report(exc)
            else:
                self._failing = None

    def _report(self, exc: Exception) -> None:
        """Log a failing duty once (no trace: it repeats), and again only once it changes."""
        text = f"{type(exc).__name__}: {exc}"
        if text != self._failing:
            self._failing = text
            level = logging.DEBUG if isinstance(exc, StorageError) else logging.WARNING
            logger.log(level, "the change feed cannot reach its table: %s", text)

    def _spawn(self, work: Awaitable[None], keep: bool = True) -> None:
        task = asyncio.ensure_future(work)
        if keep:
            self._tasks.append(task)
        else:  # the loop holds tasks weakly: keep a reference until it is done
            self._passing.add(task)
            task.add_done_callback(self._passing.discard)
