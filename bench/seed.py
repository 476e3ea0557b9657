"""Putting items in place: through the API for the scenarios, with SQL for bulk.

Every function takes the Database it fills, so the same code seeds Picus's database and
the reference peer's (both tables are `items (id, data, created_at, updated_at)`).
"""

import signal
import time
from pathlib import Path

import sqlalchemy as sa

from bench import load
from bench.documents import document_sql
from devtools.postgres import Database

SEED_CONNECTIONS = 16
SEED_POLL_SECONDS = 0.25


def seed_through_api(
    db: Database, base_url: str, bodies: Path, count: int, timeout: float
) -> tuple[int, int]:
    """POST exactly `count` documents with wrk; return the first and last new id.

    wrk is the seeding client because it is cheap: on two shared cores a Python client
    takes CPU from the server and makes seeding several times slower. wrk always runs
    for its full duration, so it is interrupted (SIGINT, by PID) once every item is in.
    """
    before = db.scalar("SELECT coalesce(max(id), 0) FROM items")
    args = [str(bodies), str(count), str(load.WRK_THREADS)]
    wrk = load.start_wrk(base_url, "seed.lua", args, SEED_CONNECTIONS, timeout)
    deadline = time.monotonic() + timeout
    try:
        while _created(db, before) < count and wrk.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"seeding {count} items took more than {timeout:.0f} s")
            time.sleep(SEED_POLL_SECONDS)
    finally:
        wrk.send_signal(signal.SIGINT)
        printed, _ = wrk.communicate(timeout=30)
    if "SEED_FAILED" in printed:
        raise RuntimeError(f"seeding through the API failed: {printed}")
    first = db.scalar("SELECT min(id) FROM items WHERE id > :before", before=before)
    last = db.scalar("SELECT max(id) FROM items")
    created = _created(db, before)
    if created != count or last - first + 1 != count:
        raise RuntimeError(f"seeding gave {created} items with ids {first}..{last}, not {count}")
    return first, last


def _created(db: Database, before: int) -> int:
    return db.scalar("SELECT count(*) FROM items WHERE id > :before", before=before)


def insert_with_sql(db: Database, count: int) -> tuple[int, int]:
    """INSERT ... SELECT generate_series: `count` documents; return the lowest and highest id.

    Other writers (requests still in flight from a finished wrk run) may interleave, so
    the range can hold a few more ids than `count`; every id in it exists.
    """
    with db.engine().connect() as conn:
        first, last, inserted = conn.execute(
            sa.text(
                "WITH new AS (INSERT INTO items (data, created_at, updated_at) "  # noqa: S608 (constant SQL)
                f"SELECT {document_sql('g')}, now(), now() "
                "FROM generate_series(1, :count) AS g RETURNING id) "
                "SELECT min(id), max(id), count(*) FROM new"
            ),
            {"count": count},
        ).one()
    if inserted != count:
        raise RuntimeError(f"the SQL seed inserted {inserted} items, not {count}")
    return int(first), int(last)


def copy_items(source: Database, target: Database) -> tuple[int, int]:
    """Copy every item, ids and timestamps included, from `source` to `target`'s empty
    table and move its id sequence past them; return the lowest and highest id.

    The reference peer gets exactly the documents Picus was seeded with (through Picus's
    API), under the same ids, so both answer the same wrk scripts over the same data.
    One JSON array carries the rows (a few MB for 10,000 items): two statements in all.
    """
    expected = source.scalar("SELECT count(*) FROM items")
    with source.engine().connect() as conn:
        array = conn.execute(
            sa.text(
                "SELECT coalesce(json_agg(json_build_object('id', id, 'data', data::jsonb, "
                "'created_at', created_at, 'updated_at', updated_at) ORDER BY id), '[]')::text "
                "FROM items"
            )
        ).scalar_one()
    with target.engine().connect() as conn:
        first, last, copied = conn.execute(
            sa.text(
                "WITH new AS (INSERT INTO items (id, data, created_at, updated_at) "
                "SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(id bigint, "
                "data jsonb, created_at timestamptz, updated_at timestamptz) RETURNING id) "
                "SELECT min(id), max(id), count(*) FROM new"
            ),
            {"rows": array},
        ).one()
        if copied != expected or not copied:
            raise RuntimeError(f"copied {copied} items, not {expected}")
        conn.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('items', 'id'), :last)"),
            {"last": last},
        )
    return int(first), int(last)
