"""Put a test database back to empty between tests (and between stateful runs)."""

import sqlalchemy as sa

from picus.config import Settings
from picus.storage.engine import create_engine

TABLES = ("items", "idempotency_keys")


def empty_database(settings: Settings) -> None:
    """Delete every row Picus stores; the schema stays."""
    engine = create_engine(settings)
    try:
        with engine.begin() as conn:
            for table in TABLES:
                conn.execute(sa.text(f"DELETE FROM {table}"))
    finally:
        engine.dispose()
