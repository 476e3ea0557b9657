"""Settings: read from the environment once, validated, with one clear error."""

from pathlib import Path

import pytest

from picus.config import ConfigError, load_settings


def test_defaults_are_the_embedded_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.embedded
    assert settings.url.database == str(Path("var") / "picus.sqlite3")
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.validate_responses is False


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/picus")
    monkeypatch.setenv("PICUS_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("PICUS_DB_STATEMENT_TIMEOUT", "1.5")
    settings = load_settings()
    assert not settings.embedded
    assert settings.url.host == "db"
    assert settings.max_body_bytes == 2048
    assert settings.db_statement_timeout == 1.5


@pytest.mark.parametrize(
    ("name", "value", "mentions"),
    [
        ("PICUS_MAX_BODY_BYTES", "abc", "PICUS_MAX_BODY_BYTES"),
        ("PICUS_MAX_BODY_BYTES", "0", "PICUS_MAX_BODY_BYTES"),
        ("PICUS_DB_POOL_SIZE", "-1", "PICUS_DB_POOL_SIZE"),
        ("PICUS_MAX_JSON_DEPTH", "1000", "PICUS_MAX_JSON_DEPTH"),
        ("PICUS_VALIDATE_RESPONSES", "maybe", "PICUS_VALIDATE_RESPONSES"),
        ("DATABASE_URL", "not a url", "DATABASE_URL"),
        ("DATABASE_URL", "nosuchdb://x/y", "DATABASE_URL"),
    ],
)
def test_a_bad_value_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, mentions: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert mentions in message
    assert "\n" not in message


# What platforms and people hand out as DATABASE_URL; Picus picks the driver for each job.
ACCEPTED_URLS = [
    "postgresql://u:p@db:5432/picus",
    "postgres://u:p@db:5432/picus",  # Heroku, Render, Fly
    "postgresql+psycopg2://u:p@db:5432/picus",
    "postgresql+asyncpg://u:p@db:5432/picus",
    "POSTGRESQL://u:p@db:5432/picus",
    "postgresql://u:p@db:5432/picus?sslmode=require&application_name=x",
    "postgresql://u@/picus?host=/var/run/postgresql",  # a Unix socket
]


@pytest.mark.parametrize("url", ACCEPTED_URLS)
def test_every_postgresql_url_form_is_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    target = load_settings().database
    assert target.backend == "postgresql"
    assert target.url.drivername == "postgresql+psycopg2"  # Alembic and the CLI
    assert target.asyncpg_dsn.startswith("postgresql://")  # the request path
    assert target.url.database == "picus"


@pytest.mark.parametrize(
    ("url", "mentions"),
    [
        ("postgresql+psycopg://u@db/picus", "'psycopg'"),  # psycopg 3: not shipped
        ("postgresql+pg8000://u@db/picus", "'pg8000'"),
        ("sqlite+aiosqlite:///x.db", "'aiosqlite'"),
        ("mysql://u@db/picus", "'mysql'"),
    ],
)
def test_an_unknown_database_or_driver_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, url: str, mentions: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert mentions in str(error.value)
    assert "DATABASE_URL" in str(error.value)
