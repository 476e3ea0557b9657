"""docker-compose.yml keeps its promises: Nginx is the only door and no secret is written down.

Read twice: the raw YAML (what is committed) and the model `docker-compose config` resolves
(anchors merged, `${VAR:-default}` filled in), which is what a Docker engine would run.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.deploy.compose import COMPOSE_FILE, REPO, resolved_config, service_environment
from tests.deploy.nginx import ENVSUBST_FILTER, render, template_variables

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_?KEY", re.IGNORECASE)
HEALTHY_CONDITIONS = {"service_healthy", "service_completed_successfully"}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return resolved_config()


@pytest.fixture(scope="module")
def services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = config["services"]
    return found


def _networks(service: dict[str, Any]) -> set[str]:
    return set(service.get("networks") or {})


def test_the_stack_has_its_four_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"db", "migrate", "app", "nginx"}


def test_only_nginx_publishes_ports(services: dict[str, dict[str, Any]]) -> None:
    with_ports = {name for name, service in services.items() if service.get("ports")}
    assert with_ports == {"nginx"}
    (port,) = services["nginx"]["ports"]
    assert port["target"] == 80


def test_db_sits_only_on_the_internal_network(
    config: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    (network,) = _networks(services["db"])
    assert config["networks"][network].get("internal") is True
    assert _networks(services["migrate"]) == {network}


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
    assert reach_db == {"db", "migrate", "app"}


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
    assert app["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in app["security_opt"]
    assert app["restart"] == "unless-stopped"
    assert app["stop_grace_period"]
    assert services["nginx"]["read_only"] is True


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
    match = re.fullmatch(r"nginx:(\d+)\.(\d+)(?:\.\d+)?(?:-[a-z0-9.-]+)?", image)
    assert match, image
    assert (int(match[1]), int(match[2])) >= (1, 28), image
    assert not services["app"].get("container_name"), "a fixed name blocks --scale app=N"


def test_the_container_renders_a_complete_config(nginx_installed: None) -> None:
    rendered = render(service_environment("nginx"))
    assert "${" not in rendered, "a variable the compose file does not define"
    assert re.search(r"^\s*server app:8000 resolve;$", rendered, re.MULTILINE)
    assert re.search(r"^\s*resolver 127\.0\.0\.11 ", rendered, re.MULTILINE)
    assert re.search(r"^\s*listen 80 default_server;$", rendered, re.MULTILINE)
    assert re.search(r"^\s*client_max_body_size 1048576;$", rendered, re.MULTILINE)
    # Nginx's own variables survive the substitution.
    assert "$picus_request_id" in rendered
    assert "$proxy_add_x_forwarded_for" in rendered
