"""Put a test database back to empty between tests (and between stateful runs)."""

from contextlib import closing

import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import URL

from picus.config import Settings
from picus.storage.engine import create_engine

TABLES = ("items", "idempotency_keys", "changes")


def empty_database(settings: Settings) -> None:
    """Delete every row Picus stores; the schema stays."""
    engine = create_engine(settings)
    try:
        with engine.begin() as conn:
            for table in TABLES:
                conn.execute(sa.text(f"DELETE FROM {table}"))
            conn.execute(sa.text("UPDATE feed_state SET purged_through = 0"))
    finally:
        engine.dispose()


def picus_connections(pg_url: URL, condition: str = "true") -> int:
    """How many of Picus's connections to PostgreSQL meet `condition` (on pg_stat_activity)
    now. `condition` is this test suite's own SQL, never input."""
    dsn = pg_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            f"WHERE application_name = 'picus' AND ({condition})"
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
