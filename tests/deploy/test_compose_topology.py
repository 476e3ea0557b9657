"""docker-compose.yml keeps its promises: Nginx is the only door, the app's queries go through
PgBouncer, every service is locked down, and no secret is written down.

Read twice: the raw YAML (what is committed) and the model `docker-compose config` resolves
(anchors merged, `${VAR:-default}` filled in), which is what a Docker engine would run.
No Docker engine runs here: that the containers start with these settings is checked by
CI's image job (`docker compose up --wait` and a smoke test), not by these tests.
"""

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from devtools.compose import (
    COMPOSE_FILE,
    TLS_OVERLAY,
    resolved_config,
    service_environment,
)
from devtools.nginx import (
    ENVSUBST_FILTER,
    GLOBAL_DIRECTIVES,
    render_templates,
    template_variables,
)
from devtools.paths import REPO

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_?KEY", re.IGNORECASE)
HEALTHY_CONDITIONS = {"service_healthy", "service_completed_successfully"}
PINNED_IMAGE = re.compile(r"[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return resolved_config()


@pytest.fixture(scope="module")
def services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = config["services"]
    return found


def _networks(service: dict[str, Any]) -> set[str]:
    return set(service.get("networks") or {})


def test_the_stack_has_its_five_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"db", "migrate", "pgbouncer", "app", "nginx"}


def test_nginx_runs_with_the_global_directives_the_tests_run_it_with(
    services: dict[str, dict[str, Any]],
) -> None:
    """A reload must not wait forever on open event streams: worker_shutdown_timeout."""
    assert services["nginx"]["command"] == ["nginx", "-g", GLOBAL_DIRECTIVES]
    assert "worker_shutdown_timeout" in GLOBAL_DIRECTIVES


def test_only_nginx_publishes_a_port_and_by_default_on_loopback_only(
    services: dict[str, dict[str, Any]],
) -> None:
    with_ports = {name for name, service in services.items() if service.get("ports")}
    assert with_ports == {"nginx"}
    (port,) = services["nginx"]["ports"]
    assert port["target"] == 8080
    assert port["host_ip"] == "127.0.0.1"  # publish with docker-compose.tls.yml


def test_the_tls_overlay_publishes_tls_only_and_keeps_plain_http_on_loopback() -> None:
    nginx = resolved_config(TLS_OVERLAY)["services"]["nginx"]
    published = {(port["host_ip"], port["target"]) for port in nginx["ports"]}
    assert published == {("127.0.0.1", 8080), ("0.0.0.0", 8443)}
    environment = nginx["environment"]
    assert environment["PICUS_TLS"] == "on"
    assert environment["PICUS_TLS_LISTEN"] == "8443"
    mounts = {volume["target"]: volume for volume in nginx["volumes"]}
    assert mounts["/etc/nginx/tls"]["read_only"] is True
    for file in ("PICUS_TLS_CERTIFICATE", "PICUS_TLS_KEY"):
        assert environment[file].startswith("/etc/nginx/tls/")
    assert environment["PICUS_HSTS"].startswith("max-age=")
    assert service_environment("nginx")["PICUS_TLS"] == "off"  # without the overlay


def test_db_sits_only_on_the_internal_network(
    config: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    (network,) = _networks(services["db"])
    assert config["networks"][network].get("internal") is True
    assert _networks(services["migrate"]) == {network}
    assert _networks(services["pgbouncer"]) == {network}


def test_app_is_reachable_from_outside_only_through_nginx(
    config: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    assert not services["app"].get("ports")
    assert not services["app"].get("network_mode")
    for network in _networks(services["app"]):
        neighbours_with_ports = {
            name
            for name, service in services.items()
            if network in _networks(service) and service.get("ports")
        }
        assert neighbours_with_ports <= {"nginx"}, network
    # Nginx reaches the app, and nothing but the app and the migration reach the database.
    assert _networks(services["app"]) & _networks(services["nginx"])
    db_network = next(iter(_networks(services["db"])))
    reach_db = {name for name, service in services.items() if db_network in _networks(service)}
    assert reach_db == {"db", "migrate", "pgbouncer", "app"}


def _url(service: str, variable: str = "DATABASE_URL") -> tuple[str | None, int | None]:
    url = make_url(service_environment(service)[variable])
    return url.host, url.port


def test_the_app_queries_through_pgbouncer_and_the_migration_goes_direct(
    services: dict[str, dict[str, Any]],
) -> None:
    assert _url("app") == ("pgbouncer", 6432)
    # PgBouncer 1.18 cannot follow named prepared statements across server connections.
    assert service_environment("app")["PICUS_DB_STATEMENT_CACHE_SIZE"] == "0"
    # LISTEN (the change feed) needs a session: it alone goes to PostgreSQL itself.
    assert _url("app", "PICUS_LISTEN_DATABASE_URL") == ("db", 5432)
    # Alembic's start-up `options` (statement_timeout) would be refused by PgBouncer.
    assert _url("migrate") == ("db", 5432)
    pgbouncer = services["pgbouncer"]
    assert Path(pgbouncer["build"]["context"]) == REPO / "deploy" / "pgbouncer"
    assert "db_password" in [secret["source"] for secret in pgbouncer["secrets"]]
    assert services["app"]["depends_on"]["pgbouncer"]["condition"] == "service_healthy"
    assert pgbouncer["depends_on"]["db"]["condition"] == "service_healthy"
    assert "6432" in " ".join(pgbouncer["healthcheck"]["test"])


def test_every_dependency_waits_for_health_or_completion(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for dependency, how in (service.get("depends_on") or {}).items():
            assert how["condition"] in HEALTHY_CONDITIONS, (name, dependency)
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["app"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["nginx"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_health_checks_probe_what_their_dependants_need(
    services: dict[str, dict[str, Any]],
) -> None:
    db_check = " ".join(services["db"]["healthcheck"]["test"])
    assert "pg_isready" in db_check
    assert "-h 127.0.0.1" in db_check  # over TCP: the init-time server has only a socket
    assert "/readyz" in " ".join(services["app"]["healthcheck"]["test"])


def test_migration_runs_once_with_the_same_image_and_cli(
    services: dict[str, dict[str, Any]],
) -> None:
    migrate, app = services["migrate"], services["app"]
    assert migrate["command"] == ["picus", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["image"] == app["image"]
    assert migrate["build"] == app["build"]


def test_app_runs_read_only_with_restart_and_grace(services: dict[str, dict[str, Any]]) -> None:
    app = services["app"]
    assert app["read_only"] is True
    assert app["restart"] == "unless-stopped"
    assert app["stop_grace_period"]
    for name in ("nginx", "pgbouncer", "migrate"):
        assert services[name]["read_only"] is True, name


def _dockerfile_user(path: Path) -> str:
    users = re.findall(r"^USER\s+(\S+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    return str(users[-1])


def test_every_service_drops_privileges_and_runs_as_a_numeric_non_root_user(
    services: dict[str, dict[str, Any]],
) -> None:
    image_users = {
        "app": _dockerfile_user(REPO / "Dockerfile"),
        "migrate": _dockerfile_user(REPO / "Dockerfile"),
        "pgbouncer": _dockerfile_user(REPO / "deploy" / "pgbouncer" / "Dockerfile"),
    }
    for name, service in services.items():
        assert service["cap_drop"] == ["ALL"], name
        assert not service.get("cap_add"), name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert not service.get("privileged"), name
        user = service.get("user") or image_users[name]
        uid, _, gid = user.partition(":")
        assert uid.isdigit(), (name, user)
        assert gid.isdigit(), (name, user)
        assert int(uid) > 0, (name, user)
        assert int(gid) > 0, (name, user)


def test_every_service_has_memory_cpu_and_process_limits(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        limits = service["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) > 0, name
        assert int(limits["memory"]) > 0, name
        assert int(limits["pids"]) > 0, name


def test_every_tmpfs_has_a_size() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    anchors = [raw["x-picus"]]
    mounts = [
        m for service in [*raw["services"].values(), *anchors] for m in service.get("tmpfs", [])
    ]
    assert len(mounts) >= 4
    for mount in mounts:
        _path, _, options = mount.partition(":")
        assert re.search(r"(^|,)size=\d+[kmg]?(,|$)", options), mount


def test_every_image_is_pinned_by_digest(services: dict[str, dict[str, Any]]) -> None:
    for name in ("db", "nginx"):
        assert PINNED_IMAGE.fullmatch(services[name]["image"]), services[name]["image"]
    for dockerfile in (REPO / "Dockerfile", REPO / "deploy" / "pgbouncer" / "Dockerfile"):
        bases = re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(encoding="utf-8"), re.M)
        assert bases, dockerfile
        for base in bases:
            assert PINNED_IMAGE.fullmatch(base), (dockerfile, base)
    # Dependabot keeps every one of those pins fresh (tag and digest together).
    dependabot = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    watched = {(u["package-ecosystem"], u["directory"]) for u in dependabot["updates"]}
    assert {("docker", "/"), ("docker", "/deploy/pgbouncer"), ("docker-compose", "/")} <= watched


def test_the_app_believes_forwarded_headers_from_nginx_s_address_only(
    config: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    trusted = service_environment("app")["FORWARDED_ALLOW_IPS"]
    nginx_address = services["nginx"]["networks"]["edge"]["ipv4_address"]
    assert trusted == nginx_address  # one address, not "*" or a network
    (subnet,) = [pool["subnet"] for pool in config["networks"]["edge"]["ipam"]["config"]]
    assert ipaddress.ip_address(nginx_address) in ipaddress.ip_network(subnet)
    assert service_environment("nginx")["PICUS_REAL_IP_FROM"] == "unix:"  # trusts no peer


def test_no_literal_secret_in_the_compose_file(services: dict[str, dict[str, Any]]) -> None:
    for name in services:
        for variable, value in service_environment(name).items():
            if SECRET_NAME.search(variable) and value.lower() not in {"true", "false"}:
                assert variable.endswith("_FILE"), (name, variable)
                assert value.startswith("/run/secrets/"), (name, variable)
            if variable == "DATABASE_URL":
                assert make_url(value).password is None, name


def test_database_password_is_a_compose_secret_from_the_uncommitted_env(
    config: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    source = config["secrets"]["db_password"]
    assert set(source) - {"name"} == {"environment"}
    for name in ("db", "migrate", "app"):
        assert "db_password" in [secret["source"] for secret in services[name]["secrets"]]
    assert "nginx" not in [n for n, s in services.items() if s.get("secrets")]
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    assert re.search(rf"^{source['environment']}=", example, re.MULTILINE)
    assert ".env" in (REPO / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" not in (REPO / ".dockerignore").read_text(encoding="utf-8").split("!")


def test_the_stack_requires_api_keys_from_a_compose_secret(
    config: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    environment = service_environment("app")
    assert environment["PICUS_REQUIRE_API_KEYS"] == "true"
    assert environment["PICUS_API_KEYS_FILE"] == "/run/secrets/api_keys"
    assert "api_keys" in [secret["source"] for secret in services["app"]["secrets"]]
    assert "api_keys" not in [s["source"] for s in services["migrate"].get("secrets", [])]
    source = config["secrets"]["api_keys"]
    assert set(source) - {"name"} == {"environment"}
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    assert re.search(rf"^{source['environment']}=$", example, re.MULTILINE)


def test_raw_file_holds_no_password_either() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), "a URL with a password"
    assert "POSTGRES_PASSWORD:" not in text
    assert raw["secrets"]["db_password"] == {"environment": "PICUS_DB_PASSWORD"}


def test_nginx_renders_its_template_with_only_its_own_variables(
    services: dict[str, dict[str, Any]],
) -> None:
    nginx = services["nginx"]
    environment = service_environment("nginx")
    assert environment["NGINX_ENVSUBST_FILTER"] == ENVSUBST_FILTER
    used = template_variables()
    assert used, "the template uses no variable?"
    assert all(name.startswith(ENVSUBST_FILTER) for name in used)
    assert used <= set(environment), used - set(environment)
    mounts = {volume["target"]: volume for volume in nginx["volumes"]}
    templates = mounts["/etc/nginx/templates"]
    assert Path(templates["source"]) == REPO / "nginx" / "templates"
    assert templates["read_only"] is True
    # The rendered file replaces the image's stock welcome page.
    assert (REPO / "nginx" / "templates" / "default.conf.template").is_file()


def test_nginx_and_the_app_agree_on_the_body_limit(services: dict[str, dict[str, Any]]) -> None:
    app_limit = service_environment("app")["PICUS_MAX_BODY_BYTES"]
    assert service_environment("nginx")["PICUS_MAX_BODY_BYTES"] == app_limit
    assert service_environment("migrate")["PICUS_MAX_BODY_BYTES"] == app_limit


def test_nginx_re_resolves_the_app_so_scaled_replicas_join(
    services: dict[str, dict[str, Any]],
) -> None:
    environment = service_environment("nginx")
    assert environment["PICUS_UPSTREAM"] == "app:8000"
    assert environment["PICUS_UPSTREAM_PARAMS"] == "resolve"
    assert environment["PICUS_RESOLVER"] == "127.0.0.11"  # Docker's embedded DNS
    # `resolve` in an upstream needs nginx >= 1.27.3 (open source): check the pinned image.
    image = services["nginx"]["image"]
    match = re.fullmatch(r"nginx:(\d+)\.(\d+)(?:\.\d+)?(?:-[a-z0-9.-]+)?@sha256:\w+", image)
    assert match, image
    assert (int(match[1]), int(match[2])) >= (1, 28), image
    assert not services["app"].get("container_name"), "a fixed name blocks --scale app=N"


def test_the_container_renders_a_complete_config(nginx_installed: None) -> None:
    confs = render_templates(service_environment("nginx"))
    assert set(confs) == {"default.conf", "tls-on/picus-tls.conf"}
    for name, text in confs.items():
        assert "${" not in text, f"{name}: a variable the compose file does not define"
    rendered = confs["default.conf"]
    assert re.search(r"^\s*server app:8000 resolve;$", rendered, re.MULTILINE)
    assert re.search(r"^\s*resolver 127\.0\.0\.11 ", rendered, re.MULTILINE)
    assert re.search(r"^\s*listen 8080 default_server;$", rendered, re.MULTILINE)
    assert re.search(r"^\s*include conf\.d/tls-off/\*\.conf;$", rendered, re.MULTILINE)
    assert re.search(r"^\s*client_max_body_size 1048576;$", rendered, re.MULTILINE)
    assert re.search(r"^\s*listen 8443 ssl;$", confs["tls-on/picus-tls.conf"], re.MULTILINE)
    # Nginx's own variables survive the substitution.
    assert "$picus_request_id" in rendered
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in rendered
