"""Bring a database's schema up to date with Alembic (the only way the schema changes)."""

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from picus.resources import resource_dir


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run every pending migration on `engine`'s database, in one connection."""
    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
