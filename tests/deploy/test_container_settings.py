"""Settings a container needs: the worker count and the database password from a secret file."""

from pathlib import Path

import pytest

from picus import cli
from picus.config import ConfigError, load_settings

URL_WITHOUT_PASSWORD = "postgresql+psycopg2://picus@db:5432/picus"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A secret file as Compose mounts it under /run/secrets (here with a trailing newline)."""
    path = tmp_path / "db_password"
    path.write_text("s3cr3t:/@ pass\n", encoding="utf-8")
    return path


def test_password_file_is_merged_into_the_database_url(secret: Path) -> None:
    settings = load_settings(database_url=URL_WITHOUT_PASSWORD, database_password_file=secret)
    assert settings.url.password == "s3cr3t:/@ pass"
    assert settings.url.username == "picus"
    assert settings.url.host == "db"
    assert "s3cr3t" not in settings.database_url
    assert "s3cr3t" not in repr(settings)


def test_password_file_is_read_from_the_environment(
    secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", URL_WITHOUT_PASSWORD)
    monkeypatch.setenv("PICUS_DATABASE_PASSWORD_FILE", str(secret))
    assert load_settings().url.password == "s3cr3t:/@ pass"


@pytest.mark.parametrize(
    ("database_url", "content", "message"),
    [
        (URL_WITHOUT_PASSWORD, None, "cannot read"),
        (URL_WITHOUT_PASSWORD, "\n", "is empty"),
        ("postgresql+psycopg2://picus:literal@db/picus", "x", "already has a password"),
        ("", "x", "needs DATABASE_URL"),
    ],
)
def test_unusable_password_file_stops_start_up_with_one_line(
    tmp_path: Path, database_url: str, content: str | None, message: str
) -> None:
    path = tmp_path / "db_password"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(database_url=database_url, database_password_file=path)
    assert "PICUS_DATABASE_PASSWORD_FILE" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_workers_default_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PICUS_WORKERS", raising=False)
    assert load_settings().workers == 1
    monkeypatch.setenv("PICUS_WORKERS", "3")
    assert load_settings().workers == 3
    monkeypatch.setenv("PICUS_WORKERS", "0")
    with pytest.raises(ConfigError, match="PICUS_WORKERS"):
        load_settings()


def test_serve_uses_the_workers_setting_unless_the_flag_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[int] = []
    monkeypatch.setattr("uvicorn.run", lambda *_args, **kwargs: seen.append(kwargs["workers"]))
    monkeypatch.setattr("signal.signal", lambda *_args: None)  # keep pytest's own handlers
    monkeypatch.setenv("DATABASE_URL", URL_WITHOUT_PASSWORD)
    monkeypatch.setenv("PICUS_WORKERS", "3")
    assert cli.main(["serve"]) == 0
    assert cli.main(["serve", "--workers", "2"]) == 0
    assert seen == [3, 2]
