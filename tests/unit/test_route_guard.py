"""picus.http.route_guard on its own, against the real spec's routes."""

import pytest
from starlette.exceptions import HTTPException

from picus.http.problems import BadRequest
from picus.http.route_guard import RouteGuard
from picus.resources import resource_dir
from picus.spec import load_api_spec


@pytest.fixture(scope="module")
def guard() -> RouteGuard:
    async def app(*_args: object) -> None:
        raise AssertionError("not called here")

    return RouteGuard(app, load_api_spec(resource_dir("openapi") / "picus.yaml", False))


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/picus/get/12"), ("PATCH", "/picus/3"), ("HEAD", "/picus/list")]
)
def test_a_good_request_passes(guard: RouteGuard, method: str, path: str) -> None:
    guard._check(method, path)


@pytest.mark.parametrize("path", ["/picus/get/abc", "/picus/get/" + "9" * 30])
def test_a_malformed_id_is_400(guard: RouteGuard, path: str) -> None:
    with pytest.raises(BadRequest):
        guard._check("GET", path)


def test_a_wrong_method_is_405_naming_every_allowed_one(guard: RouteGuard) -> None:
    with pytest.raises(HTTPException) as raised:
        guard._check("POST", "/picus/7")
    assert raised.value.status_code == 405
    assert raised.value.headers == {"Allow": "DELETE, PATCH, PUT"}


@pytest.mark.parametrize("path", ["//picus/list", "/picus//get/1", "/picus/get/1/", "/"])
def test_an_empty_segment_or_trailing_slash_is_404(guard: RouteGuard, path: str) -> None:
    with pytest.raises(HTTPException) as raised:
        guard._check("GET", path)
    assert raised.value.status_code == 404
