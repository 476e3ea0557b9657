"""Put a test database back to empty between tests (and between stateful runs)."""

import sqlalchemy as sa

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
