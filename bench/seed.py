"""Putting items in place: through the API for the scenarios, with SQL for bulk."""

import signal
import time
from pathlib import Path

import sqlalchemy as sa

from bench import load
from bench.cluster import Cluster
from bench.documents import document_sql

SEED_CONNECTIONS = 16
SEED_POLL_SECONDS = 0.25


def seed_through_api(
    cluster: Cluster, base_url: str, bodies: Path, count: int, timeout: float
) -> tuple[int, int]:
    """POST exactly `count` documents with wrk; return the first and last new id.

    wrk is the seeding client because it is cheap: on two shared cores a Python client
    takes CPU from the server and makes seeding several times slower. wrk always runs
    for its full duration, so it is interrupted (SIGINT, by PID) once every item is in.
    """
    before = cluster.scalar("SELECT coalesce(max(id), 0) FROM items")
    args = [str(bodies), str(count), str(load.WRK_THREADS)]
    wrk = load.start_wrk(base_url, "seed.lua", args, SEED_CONNECTIONS, timeout)
    deadline = time.monotonic() + timeout
    try:
        while _created(cluster, before) < count and wrk.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"seeding {count} items took more than {timeout:.0f} s")
            time.sleep(SEED_POLL_SECONDS)
    finally:
        wrk.send_signal(signal.SIGINT)
        printed, _ = wrk.communicate(timeout=30)
    if "SEED_FAILED" in printed:
        raise RuntimeError(f"seeding through the API failed: {printed}")
    first = cluster.scalar("SELECT min(id) FROM items WHERE id > :before", before=before)
    last = cluster.scalar("SELECT max(id) FROM items")
    created = _created(cluster, before)
    if created != count or last - first + 1 != count:
        raise RuntimeError(f"seeding gave {created} items with ids {first}..{last}, not {count}")
    return first, last


def _created(cluster: Cluster, before: int) -> int:
    return cluster.scalar("SELECT count(*) FROM items WHERE id > :before", before=before)


def insert_with_sql(cluster: Cluster, count: int) -> tuple[int, int]:
    """INSERT ... SELECT generate_series: `count` documents; return the lowest and highest id.

    Other writers (requests still in flight from a finished wrk run) may interleave, so
    the range can hold a few more ids than `count`; every id in it exists.
    """
    with cluster.engine().connect() as conn:
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
