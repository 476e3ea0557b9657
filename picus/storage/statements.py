"""Every SQL statement Picus runs on a request, written once with SQLAlchemy Core.

Statements take named bind parameters (`:id`, `:data`, ...) and are built once per dialect
at start-up; the PostgreSQL database compiles each once more to asyncpg's SQL. Documents go
in as JSON text (`:data`, cast to the column's type), so the database keeps exactly the
text the client sent, numbers included, and come out as JSON text (`data::text`).
"""

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from picus.storage.item_json import ITEM_JSON
from picus.storage.tables import (
    CHANGES_SEQ,
    DocumentType,
    changes,
    feed_state,
    idempotency_keys,
    items,
)

if TYPE_CHECKING:
    from picus.storage.database import Statement

# A new item's version; every UPDATE adds one (the ETag is made from it, see picus.http.etags).
INITIAL_VERSION = 1

# id, document as JSON text, created_at, updated_at, version: the order StoredItem reads.
ITEM_COLUMNS = (
    items.c.id,
    sa.cast(items.c.data, sa.Text).label("data_json"),
    items.c.created_at,
    items.c.updated_at,
    items.c.version,
)

_document = sa.cast(sa.bindparam("data", type_=sa.Text), DocumentType)
_now = sa.bindparam("now", type_=sa.DateTime(timezone=True))
_this_item = items.c.id == sa.bindparam("item_id", type_=sa.BigInteger)
_this_key = (
    idempotency_keys.c.principal == sa.bindparam("principal", type_=sa.String),
    idempotency_keys.c.idempotency_key == sa.bindparam("key", type_=sa.String),
)


def _version_in(dialect: str) -> sa.ColumnElement[bool]:
    """`version` is one of `:versions` (a list of ints): an array on PostgreSQL."""
    if dialect == "postgresql":
        versions = sa.bindparam("versions", type_=postgresql.ARRAY(sa.BigInteger))
        return items.c.version == sa.any_(versions)
    return items.c.version.in_(sa.bindparam("versions", expanding=True))


def _list_chunk() -> sa.Select[tuple[int, str]]:
    """The next `:limit` listed items after `:after`, as (last id, their JSON comma-joined).

    On PostgreSQL the database writes each Item's JSON and joins them (picus.storage.
    item_json), so a long list costs the app almost nothing per item.
    """
    chunk = (
        sa.select(items.c.id, ITEM_JSON)
        .where(items.c.id > sa.bindparam("after", type_=sa.BigInteger))
        .order_by(items.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .subquery()
    )
    joined = sa.func.string_agg(
        chunk.c.item_json, postgresql.aggregate_order_by(sa.literal_column("','"), chunk.c.id)
    )
    return sa.select(sa.func.max(chunk.c.id), joined)


# The advisory lock only one sequencer at a time holds (any number; "picus" in ASCII).
SEQUENCER_LOCK = 0x7069637573
# The channel a sequencer announces the newest seq on (PostgreSQL).
CHANGES_CHANNEL = "picus_changes"

# seq, item id, op, version, at: the order a Change is read in.
CHANGE_COLUMNS = (changes.c.seq, changes.c.item_id, changes.c.op, changes.c.version, changes.c.at)


class Statements:
    """The statements for one dialect ("postgresql" or "sqlite"), built once.

    On PostgreSQL a write and its change row go in one statement (a data-modifying CTE:
    one round trip, atomic); SQLite runs the two in one transaction (`record_change`).
    """

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.insert_item = _insert_item()
        self.get_item = sa.select(*ITEM_COLUMNS).where(_this_item)
        self.page = _page()
        self.item_exists = sa.select(items.c.id).where(_this_item)
        self.replace_item = _replace(None)
        self.replace_item_if = _replace(_version_in(dialect))
        self.delete_item = items.delete().where(_this_item).returning(items.c.id)
        self.delete_item_if = (
            items.delete().where(_this_item, _version_in(dialect)).returning(items.c.id)
        )
        self.ping = sa.select(sa.literal(1))
        self.find_key = _find_key()
        self.insert_key = _insert_key()
        self.delete_expired_key = _delete_expired(*_this_key)
        self.purge_expired_keys = _delete_expired()
        self.list_chunk = _list_chunk() if dialect == "postgresql" else None
        self.lock_item = sa.select(items.c.version, sa.cast(items.c.data, sa.Text)).where(
            _this_item
        )
        if dialect == "postgresql":
            self.lock_item = self.lock_item.with_for_update()
        self.record_change = _record_change()
        self.changes_after = (
            sa.select(*CHANGE_COLUMNS)
            .where(changes.c.seq > sa.bindparam("since", type_=sa.BigInteger))
            .order_by(changes.c.seq)
            .limit(sa.bindparam("limit", type_=sa.Integer))
        )
        self.feed_marks = sa.select(
            feed_state.c.purged_through,
            sa.select(sa.func.coalesce(sa.func.max(changes.c.seq), 0)).scalar_subquery(),
        ).where(feed_state.c.id == 1)
        self.any_unsequenced = sa.select(changes.c.id).where(changes.c.seq.is_(None)).limit(1)
        self.sequence_pending = _sequence_pending(dialect)
        self.purge_changes = (
            changes.delete()
            .where(changes.c.at < sa.bindparam("cutoff", type_=sa.DateTime(timezone=True)))
            .where(changes.c.seq.is_not(None))
            .returning(changes.c.seq)
        )
        self.mark_purged = _mark_purged()
        self.sequencer_lock = sa.select(sa.func.pg_advisory_xact_lock(SEQUENCER_LOCK))
        self.announce = sa.select(
            sa.func.pg_notify(CHANGES_CHANNEL, sa.bindparam("payload", type_=sa.Text))
        )
        self.writes_with_change = dialect == "postgresql"
        if self.writes_with_change:
            self.insert_item = _recorded(self.insert_item, "created")
            self.replace_item = _recorded(self.replace_item, "updated")
            self.replace_item_if = _recorded(self.replace_item_if, "updated")
            self.delete_item = _recorded(self.delete_item, "deleted")
            self.delete_item_if = _recorded(self.delete_item_if, "deleted")

    # The writes: each returns its row; on PostgreSQL it also records its change.
    insert_item: "Statement"
    replace_item: "Statement"
    replace_item_if: "Statement"
    delete_item: "Statement"
    delete_item_if: "Statement"


@cache
def statements_for(dialect: str) -> Statements:
    """The one set of statements for `dialect` (so each is compiled once per process)."""
    return Statements(dialect)


def _record_change() -> sa.Insert:
    """One change row (`seq` comes later, from the sequencer)."""
    return changes.insert().values(
        item_id=sa.bindparam("item_id", type_=sa.BigInteger),
        op=sa.bindparam("op", type_=sa.String),
        version=sa.bindparam("version", type_=sa.BigInteger),
        at=_now,
    )


def _recorded(write: sa.Insert | sa.Update | sa.Delete, op: str) -> sa.Select[Any]:
    """`write` (with RETURNING) and the change row it makes, as one statement (PostgreSQL).

    The change is inserted from what the write returned, so a write that changed no row
    records no change, and both commit or neither does.
    """
    done = write.cte("written")
    version = done.c.version if op != "deleted" else sa.null()
    change = changes.insert().from_select(
        ["item_id", "op", "version", "at"],
        sa.select(done.c.id, sa.literal(op), version, _now),
    )
    return sa.select(*done.c).add_cte(change.cte("recorded"))


def _sequence_pending(dialect: str) -> sa.Update:
    """Number every committed, unnumbered change, in insert order; return the new numbers.

    On PostgreSQL from a sequence, under an advisory lock (`sequencer_lock`) so numbering
    runs one at a time: every number given is greater than every number committed before.
    SQLite commits one writer at a time, so a change's insert order is its commit order.
    """
    if dialect != "postgresql":
        return (
            changes.update()
            .where(changes.c.seq.is_(None))
            .values(seq=changes.c.id)
            .returning(changes.c.seq)
        )
    pending = (
        sa.select(changes.c.id).where(changes.c.seq.is_(None)).order_by(changes.c.id).subquery()
    )
    numbered = sa.select(pending.c.id, CHANGES_SEQ.next_value().label("seq")).subquery()
    return (
        changes.update()
        .where(changes.c.id == numbered.c.id)
        .values(seq=numbered.c.seq)
        .returning(changes.c.seq)
    )


def _mark_purged() -> sa.Update:
    """Raise the retention mark to `:through` (never lower it)."""
    through = sa.bindparam("through", type_=sa.BigInteger)
    return (
        feed_state.update()
        .where(feed_state.c.id == 1)
        .values(
            purged_through=sa.case(
                (feed_state.c.purged_through < through, through),
                else_=feed_state.c.purged_through,
            )
        )
    )


def _insert_item() -> sa.Insert:
    return (
        items.insert()
        .values(data=_document, created_at=_now, updated_at=_now, version=INITIAL_VERSION)
        .returning(items.c.id, items.c.version)
    )


def _page() -> sa.Select[tuple[int, str, datetime, datetime, int]]:
    """Items with id > `:after`, at most `:limit`, by id (keyset paging)."""
    return (
        sa.select(*ITEM_COLUMNS)
        .where(items.c.id > sa.bindparam("after", type_=sa.BigInteger))
        .order_by(items.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


def _replace(condition: sa.ColumnElement[bool] | None) -> sa.Update:
    """Replace the document and bump the version in one statement (only if `condition`)."""
    where = [_this_item] if condition is None else [_this_item, condition]
    return (
        items.update()
        .where(*where)
        .values(data=_document, updated_at=_now, version=items.c.version + 1)
        .returning(*ITEM_COLUMNS)
    )


def _find_key() -> sa.Select[tuple[int, str, datetime]]:
    return sa.select(
        idempotency_keys.c.item_id,
        idempotency_keys.c.fingerprint,
        idempotency_keys.c.created_at,
    ).where(*_this_key)


def _insert_key() -> sa.Insert:
    return idempotency_keys.insert().values(
        principal=sa.bindparam("principal", type_=sa.String),
        idempotency_key=sa.bindparam("key", type_=sa.String),
        fingerprint=sa.bindparam("fingerprint", type_=sa.String),
        item_id=sa.bindparam("item_id", type_=sa.BigInteger),
        created_at=_now,
    )


def _delete_expired(*conditions: sa.ColumnElement[bool]) -> sa.Delete:
    """Key rows created before `:cutoff` (and matching `conditions`)."""
    cutoff = sa.bindparam("cutoff", type_=sa.DateTime(timezone=True))
    return idempotency_keys.delete().where(*conditions, idempotency_keys.c.created_at < cutoff)
