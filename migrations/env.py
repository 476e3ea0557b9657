"""Alembic environment: runs migrations on the engine Picus itself would use."""

from alembic import context

from picus.config import load_settings
from picus.storage.engine import create_engine
from picus.storage.tables import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    """Migrate through a connection handed in by `picus db upgrade`, or one made here."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(load_settings())
    with engine.connect() as connection:
        _migrate(connection)
    engine.dispose()


def _migrate(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("picus: offline (SQL script) migrations are not supported")
run_migrations_online()
