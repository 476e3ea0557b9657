"""The pieces `picus serve` sets up before uvicorn starts: settings, log format, metrics dir."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from picus.config import ConfigError, load_settings
from picus.observability.lifecycle import masked_database
from picus.observability.log_config import build_formatter, choose_format
from picus.observability.multiprocess import ENV, forget_dead_workers, prepare_metrics_dir
from picus.observability.request_id import current_request_id


def test_log_and_shutdown_settings_have_defaults_and_take_any_case() -> None:
    settings = load_settings(log_level="DEBUG", log_format="JSON", graceful_timeout=7.5)
    assert (settings.log_level, settings.log_format, settings.graceful_timeout) == (
        "debug",
        "json",
        7.5,
    )
    defaults = load_settings()
    assert (defaults.log_level, defaults.log_format, defaults.graceful_timeout) == (
        "info",
        None,
        20.0,
    )


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"log_format": "xml"}, "PICUS_LOG_FORMAT"),
        ({"log_level": "loud"}, "PICUS_LOG_LEVEL"),
        ({"graceful_timeout": 0}, "PICUS_GRACEFUL_TIMEOUT"),
    ],
)
def test_a_bad_setting_is_one_clear_line(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(**overrides)


def test_the_environment_sets_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PICUS_LOG_FORMAT", "console")
    monkeypatch.setenv("PICUS_GRACEFUL_TIMEOUT", "3")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.log_format == "console"
    assert settings.graceful_timeout == 3
    assert settings.metrics_dir == tmp_path


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://picus:hunter2-secret@db:5432/picus",
        "postgresql://picus@db/picus?password=hunter2-secret&sslmode=require",
    ],
)
def test_the_database_url_is_logged_without_its_password(url: str) -> None:
    masked = masked_database(sa.make_url(url))
    assert "hunter2-secret" not in masked
    assert "***" in masked or "password=%2A%2A%2A" in masked  # a query value is URL-encoded
    assert masked.startswith("postgresql")
    assert "@db" in masked


def test_a_configured_metrics_dir_is_emptied_of_old_values_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV, "restored-after-the-test")  # so the delenv below is undone
    monkeypatch.delenv(ENV)
    (tmp_path / "counter_1234.db").write_bytes(b"old")
    (tmp_path / "README").write_text("not ours")
    path, created = prepare_metrics_dir(tmp_path)
    assert (path, created) == (tmp_path, False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README"]
    assert os.environ[ENV] == str(tmp_path)


def test_without_a_metrics_dir_a_fresh_one_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "restored-after-the-test")  # so the delenv below is undone
    monkeypatch.delenv(ENV)
    path, created = prepare_metrics_dir(None)
    try:
        assert created
        assert path.is_dir()
        assert not list(path.iterdir())
        assert os.environ[ENV] == str(path)
    finally:
        path.rmdir()


def test_json_lines_carry_only_the_listed_fields_and_the_request_id() -> None:
    formatter = build_formatter("json")
    record = logging.LogRecord("picus.access", logging.INFO, __file__, 1, "request", None, None)
    record.__dict__.update(status=201, body="a payload", authorization="Bearer x")
    token = current_request_id.set("rid-7")
    try:
        line = json.loads(formatter.format(record))
    finally:
        current_request_id.reset(token)
    assert line["status"] == 201
    assert line["request_id"] == "rid-7"
    assert line["message"] == "request"
    assert line["level"] == "info"
    assert "body" not in line
    assert "authorization" not in line


def test_console_when_asked_or_on_a_terminal_json_otherwise() -> None:
    assert choose_format("console") == "console"
    assert choose_format("json") == "json"
    assert choose_format(None) == "json"  # pytest's stderr is not a terminal
    record = logging.LogRecord("picus", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
    text = build_formatter("console").format(record)
    assert "hello you" in text
    assert not text.startswith("{")


def test_console_tracebacks_never_show_local_variables() -> None:
    document = {"note": "a-secret-payload"}  # a local a rich traceback would print
    try:
        raise RuntimeError("boom " + str(len(document)))
    except RuntimeError:
        record = logging.LogRecord(
            "picus", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    text = build_formatter("console").format(record)
    assert "RuntimeError: boom 1" in text
    assert "a-secret-payload" not in text


def test_a_scrape_forgets_the_live_gauges_of_dead_workers(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live, gone = os.getpid(), dead.pid
    for name in (
        f"gauge_livesum_{live}.db",
        f"gauge_livesum_{gone}.db",
        f"gauge_liveall_{gone}.db",
        f"counter_{gone}.db",  # a dead worker's counts still belong in the totals
    ):
        (tmp_path / name).write_bytes(b"")
    forget_dead_workers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{gone}.db", f"gauge_livesum_{live}.db"]
    )
