"""Fixtures for the deployment tests: Nginx (rendered from the template) in front of `picus serve`,
PgBouncer (the shipped ini) in front of PostgreSQL.

Nginx and PgBouncer come from the machine (`.ci/run` installs them from Debian, see
tools/system-packages). Without them these tests skip with a reason, except under
CI=true, where a missing tool is a failure.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from devtools.nginx import Nginx, nginx_binary, nginx_environment, render_templates
from devtools.pgbouncer import pgbouncer_binary
from devtools.servers import LiveServer, free_port

NginxFactory = Callable[..., Nginx]


def _require(tool: str, found: bool, packages: str = "nginx gettext-base") -> None:
    if found:
        return
    message = f"{tool} is not installed (apt-get install {packages}; .ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; under CI=true nothing may skip", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def nginx_installed() -> None:
    """Nginx and envsubst are on this machine (or the test skips/fails as documented above)."""
    _require("nginx", nginx_binary() is not None)
    _require("envsubst", shutil.which("envsubst") is not None)


@pytest.fixture(scope="session")
def pgbouncer_installed() -> None:
    """PgBouncer is on this machine (or the test skips/fails as documented above)."""
    _require("pgbouncer", pgbouncer_binary() is not None, "pgbouncer")


def start_nginx(environment: dict[str, str], prefix: Path, port: int) -> Nginx:
    """Nginx on every rendered template (as the image renders them), started."""
    confs = render_templates(environment)
    site_conf = confs.pop("default.conf")
    return Nginx(site_conf, prefix, port, extra_confs=confs).start()


@pytest.fixture
def nginx_factory(
    nginx_installed: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NginxFactory]:
    """Start Nginx instances in front of a port; all are stopped (by PID) after the test."""
    started: list[Nginx] = []

    def start(upstream_port: int, **overrides: str) -> Nginx:
        port = free_port()
        environment = nginx_environment(port, upstream_port, **overrides)
        nginx = start_nginx(environment, tmp_path_factory.mktemp("nginx"), port)
        started.append(nginx)
        return nginx

    yield start
    for nginx in started:
        nginx.stop()


@pytest.fixture(scope="module")
def shared_app(pg_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `picus serve` on the session PostgreSQL for a module's read-mostly checks."""
    env = {"DATABASE_URL": pg_url.render_as_string(hide_password=False)}
    log_path = tmp_path_factory.mktemp("app") / "server.log"
    with LiveServer(env, log_path=log_path) as server:
        yield server


@pytest.fixture(scope="module")
def shared_nginx(
    nginx_installed: None, shared_app: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Nginx]:
    """Nginx with docker-compose.yml's settings in front of `shared_app`."""
    port = free_port()
    nginx = start_nginx(
        nginx_environment(port, shared_app.port), tmp_path_factory.mktemp("nginx"), port
    )
    try:
        yield nginx
    finally:
        nginx.stop()
