"""What Picus acknowledged, item by item, and what each item may hold now.

Each item is written by one client thread only, so its history is a sequence. An
acknowledged write (201, 200, 204) makes the item's state certain; a write that got no
answer, or a 502/503 after its retries, may or may not have happened, so the item may hold
the old or the new state until something acknowledged (or a read) settles it.
"""

import json
import threading
from dataclasses import dataclass, field

from devtools.json_values import json_value

DELETED = object()  # the state of an item that is gone


@dataclass
class ItemRecord:
    """One item: the states it may be in (one when certain), and what was acknowledged."""

    item_id: int
    possible: list[object]
    etag: str | None = None  # the current ETag, known only while the state is certain

    @property
    def certain(self) -> bool:
        """True when exactly one state is possible."""
        return len(self.possible) == 1

    def may_be(self, state: object) -> bool:
        """True if `state` (a document, or DELETED) is one this item may be in."""
        return any(_same(state, candidate) for candidate in self.possible)

    def settle(self, state: object, etag: str | None = None) -> None:
        """An acknowledged write or a read fixed the state (and, if it said, the ETag)."""
        unchanged = self.certain and self.may_be(state)
        self.possible = [state]
        if etag is not None or not unchanged:
            self.etag = etag

    def maybe(self, state: object) -> None:
        """A write with no acknowledgement: the item may now be in `state` too."""
        self.etag = None
        if not self.may_be(state):
            self.possible.append(state)


@dataclass
class Ledger:
    """Every item an acknowledged create produced, and the writes lost (must stay empty)."""

    items: dict[int, ItemRecord] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    wrong_answers: list[str] = field(default_factory=list)  # a write answered against the facts
    unacknowledged_creates: int = 0
    # (id, op, version) of every acknowledged write, as the change feed must show it.
    acknowledged_writes: list[tuple[int, str, int | None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self, item_id: int, op: str, etag: str | None = None) -> None:
        """A write was acknowledged (201, 200, 204): exactly one change must say so."""
        version = int(etag.strip('"')) if etag else None
        with self._lock:
            self.acknowledged_writes.append((item_id, op, version))

    def created(self, item_id: int, document: object, etag: str | None) -> ItemRecord:
        """A 201: this id now holds `document`."""
        record = ItemRecord(item_id, [document], etag)
        self.acknowledged(item_id, "created", etag)
        with self._lock:
            if item_id in self.items:
                self.lost.append(f"id {item_id} was acknowledged twice as a new item")
            self.items[item_id] = record
        return record

    def create_unacknowledged(self) -> None:
        """A create that never got its 201 (retries exhausted): not a promise, not checked."""
        with self._lock:
            self.unacknowledged_creates += 1

    def lose(self, what: str) -> None:
        """An acknowledged write is not there (a read or the final check saw otherwise)."""
        with self._lock:
            self.lost.append(what)

    def wrong_answer(self, what: str) -> None:
        """A write's answer contradicts what the ledger knows (e.g. 404 for an existing item)."""
        with self._lock:
            self.wrong_answers.append(what)


def _same(left: object, right: object) -> bool:
    """Equal as JSON values (true is not 1; 1 and 1.0 are the same number)."""
    if left is DELETED or right is DELETED:
        return left is right
    return json_value(json.dumps(left)) == json_value(json.dumps(right))
