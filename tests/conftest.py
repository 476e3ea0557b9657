"""Shared fixtures: every storage and API test runs on a real PostgreSQL and on SQLite.

PostgreSQL comes from pytest-postgresql, which starts a throwaway cluster with the
machine's own pg_ctl (through devtools/pg_ctl_as_postgres, so it also works as
root). One database per session is migrated with Alembic; each test starts empty.

With PICUS_TEST_POSTGRES=pgbouncer (`make test-pgbouncer`, which `make test` runs after
the main pass) the app's connections go through a real PgBouncer in transaction pooling
instead; see THROUGH_PGBOUNCER below.
"""

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from connexion import AsyncApp
from pytest_postgresql import factories
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy.engine import URL
from starlette.testclient import TestClient

from devtools.pgbouncer import PgBouncer
from devtools.servers import LiveServer
from picus.apikeys import new_key
from picus.app import create_app
from picus.config import Settings, load_settings
from picus.storage import schema
from picus.storage.database import Database, open_database
from picus.storage.engine import create_engine
from picus.storage.items import ItemStore
from tests.support.database import empty_database

postgresql_proc = factories.postgresql_proc()

# PgBouncer pass (PICUS_TEST_POSTGRES=pgbouncer; the Makefile's `test-pgbouncer` runs
# tests/api, tests/features and tests/storage so): every connection the *app* opens -- the
# `settings` and `pg_env` fixtures, and so every in-process app and `picus serve` built on
# them -- goes through a real PgBouncer (devtools/pgbouncer.py) running the shipped
# deploy/pgbouncer/pgbouncer.ini in transaction pooling, with the driver's named statement
# cache off as the stack sets it. `pg_url` stays direct: migrations and the tests' own
# inspection connections reach PostgreSQL itself, as `picus db upgrade` does in the stack.
# SQLite had its pass already, so only the "pgbouncer" backend runs.
THROUGH_PGBOUNCER = os.environ.get("PICUS_TEST_POSTGRES", "direct") == "pgbouncer"
if THROUGH_PGBOUNCER:
    # As docker-compose.yml and the Kubernetes ConfigMap set it for PgBouncer 1.18; in the
    # environment, so `load_settings()` in a test and every `picus serve` child see it too.
    os.environ["PICUS_DB_STATEMENT_CACHE_SIZE"] = "0"

BACKENDS = ["pgbouncer"] if THROUGH_PGBOUNCER else ["postgresql", "sqlite"]


@pytest.fixture(scope="session")
def pg_url(postgresql_proc: PostgreSQLExecutor) -> Iterator[URL]:
    """A migrated PostgreSQL database for the whole session."""
    proc = postgresql_proc
    with DatabaseJanitor(
        user=proc.user,
        host=proc.host,
        port=proc.port,
        dbname="picus",
        version=proc.version,
        password=proc.password,
    ):
        url = URL.create(
            "postgresql",
            username=proc.user,
            password=proc.password or None,
            host=proc.host,
            port=proc.port,
            database="picus",
        )
        _migrate(load_settings(database_url=url.render_as_string(hide_password=False)))
        yield url


@pytest.fixture(scope="session")
def pgbouncer(pg_url: URL) -> Iterator[PgBouncer]:
    """A real PgBouncer in front of the session PostgreSQL (pass PICUS_TEST_POSTGRES=pgbouncer)."""
    assert pg_url.host is not None
    assert pg_url.port is not None
    with PgBouncer(pg_url.host, pg_url.port, users={pg_url.username or "postgres": ""}) as bouncer:
        yield bouncer


def _app_database_url(request: pytest.FixtureRequest, pg_url: URL) -> str:
    """DATABASE_URL for the app: PostgreSQL itself, or PgBouncer in the PgBouncer pass."""
    direct = pg_url.render_as_string(hide_password=False)
    if THROUGH_PGBOUNCER:
        # The change feed's LISTEN needs a session of its own, which transaction pooling
        # cannot give: it goes to PostgreSQL directly, as the stack configures it.
        os.environ["PICUS_LISTEN_DATABASE_URL"] = direct
        bouncer: PgBouncer = request.getfixturevalue("pgbouncer")
        return bouncer.url(user=pg_url.username or "postgres", database=pg_url.database or "")
    return direct


@pytest.fixture(scope="session")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file for the whole session."""
    path = tmp_path_factory.mktemp("sqlite") / "picus.sqlite3"
    _migrate(load_settings(database_url="", sqlite_path=path))
    return path


def _migrate(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def backend_settings(request: pytest.FixtureRequest) -> Settings:
    """Settings for one backend, shared by a module's tests, with response validation on.

    (Parametrize it indirectly to run a module on one backend only.)
    """
    if request.param in {"postgresql", "pgbouncer"}:
        url: URL = request.getfixturevalue("pg_url")
        overrides: dict[str, object] = {"database_url": _app_database_url(request, url)}
        return load_settings(validate_responses=True, **overrides)
    overrides = {"database_url": "", "sqlite_path": request.getfixturevalue("sqlite_path")}
    return load_settings(validate_responses=True, **overrides)


@pytest.fixture
def settings(backend_settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The backend's settings, its database emptied for this test."""
    if backend_settings.embedded:
        empty_database(backend_settings)
    else:
        # Emptied directly (PgBouncer refuses the sync engine's start-up `options`).
        url: URL = request.getfixturevalue("pg_url")
        empty_database(load_settings(database_url=url.render_as_string(hide_password=False)))
    return backend_settings


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (`pytest.mark.anyio`) run on asyncio, as uvicorn runs the app."""
    return "asyncio"


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The request path's database (asyncpg or SQLite) on the test database."""
    database = await open_database(settings)
    yield database
    await database.close()


@pytest.fixture
def store(database: Database) -> ItemStore:
    """Storage on the test database."""
    return ItemStore(database)


@pytest.fixture
def app(settings: Settings) -> AsyncApp:
    """The Connexion app on the test database, validating requests and responses."""
    return create_app(settings)


@pytest.fixture(scope="module")
def module_client(backend_settings: Settings) -> Iterator[TestClient]:
    """One running app per backend per module: building and starting one per test was most
    of the suite's time."""
    with create_app(backend_settings).test_client() as client:
        yield client


@pytest.fixture
def client(settings: Settings, module_client: TestClient) -> TestClient:
    """An HTTP client talking to the module's app in-process, on an emptied database."""
    return module_client


@pytest.fixture
def pg_env(request: pytest.FixtureRequest, pg_url: URL) -> dict[str, str]:
    """Environment for a `picus` process on the (emptied) session PostgreSQL database
    (through PgBouncer in the PgBouncer pass)."""
    empty_database(load_settings(database_url=pg_url.render_as_string(hide_password=False)))
    return {"DATABASE_URL": _app_database_url(request, pg_url)}


@pytest.fixture
def live_server(pg_env: dict[str, str], tmp_path: Path) -> Iterator[LiveServer]:
    """A real `picus serve` (one worker) on a loopback port, on PostgreSQL."""
    with LiveServer(pg_env, log_path=tmp_path / "server.log") as server:
        yield server


@dataclass(frozen=True)
class Keys:
    """A write key, a read key, and the configuration entries (hashes) for both."""

    write: str
    read: str
    entries: str


@pytest.fixture(scope="session")
def keys() -> Keys:
    write_key, write_entry = new_key("write")
    read_key, read_entry = new_key("read")
    return Keys(write_key, read_key, f"{write_entry.line()},{read_entry.line()}")


# Tests that start real processes (servers, Nginx, PgBouncer, a browser, Node) or run the
# soak and the contract fuzzing: `make test-fast` leaves them out (`-m "not live"`).
LIVE = (
    "api/test_odd_requests.py",
    "api/test_stalled_clients.py",
    "features/test_change_stream.py",
    "features/test_concurrency_postgresql.py",
    "features/test_api_keys_live.py",
    "ops/test_metrics_live.py",
    "ops/test_logs_live.py",
    "ops/test_shutdown.py",
    "test_cli.py",
    "test_live_server.py",
    "clients/",
    "contract/",
    "deploy/",
    "docs/",
    "edge/",
    "soak/",
)
TESTS_DIR = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "live: starts real processes; `make test-fast` skips")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(TESTS_DIR).as_posix().startswith(LIVE):
            item.add_marker(pytest.mark.live)
