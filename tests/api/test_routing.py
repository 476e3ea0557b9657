"""Unknown paths, wrong methods, the spec, Swagger UI and the probes."""

import pytest
import yaml
from starlette.testclient import TestClient

from picus.resources import resource_dir
from tests.api.helpers import assert_problem

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.mark.parametrize("path", ["/picus/nothing/here", "/picus/get", "/picus/get/1/more", "/x"])
def test_an_unknown_path_is_a_404_problem(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/picus/1", {"DELETE", "PATCH", "PUT"}),
        ("GET", "/picus/1", {"DELETE"}),
        ("DELETE", "/picus/list", {"GET", "HEAD"}),
        ("POST", "/picus/list", {"GET", "HEAD"}),
        ("GET", "/picus/put", {"POST"}),
        ("DELETE", "/picus/get/1", {"GET", "HEAD"}),
    ],
)
def test_a_wrong_method_is_405_with_allow(
    client: TestClient, method: str, path: str, allow: set[str]
) -> None:
    response = client.request(method, path)
    assert_problem(response, 405)
    assert {m.strip() for m in response.headers["allow"].split(",")} >= allow


def test_allow_lists_every_method_the_path_takes(client: TestClient) -> None:
    """Starlette alone names only the first route's method; the route guard names them all."""
    spec = yaml.safe_load((resource_dir("openapi") / "picus.yaml").read_text())
    methods = {m.upper() for m in spec["paths"]["/{id}"] if m in HTTP_METHODS}
    response = client.request("POST", "/picus/1")
    assert {m.strip() for m in response.headers["allow"].split(",")} == methods


def test_the_spec_is_served_as_json(client: TestClient) -> None:
    response = client.get("/picus/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.0")
    assert {"/list", "/put", "/get/{id}", "/{id}"} <= set(spec["paths"])


def test_swagger_ui_is_served_from_the_package(client: TestClient) -> None:
    response = client.get("/picus/ui/")
    assert response.status_code == 200
    assert "swagger-ui" in response.text
    assert "cdn" not in response.text.lower()
    bundle = client.get("/picus/ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200


def test_healthz_and_readyz_answer_200(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}
