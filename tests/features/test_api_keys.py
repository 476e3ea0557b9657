"""API keys: 401 with a challenge, 403 for a read key on a write, open probes and docs."""

from httpx import Response
from starlette.testclient import TestClient

from picus.apikeys import new_key
from picus.app import create_app
from picus.config import Settings
from picus.http.security import required_scopes
from picus.resources import resource_dir
from picus.spec import load_api_spec
from tests.api.helpers import assert_problem
from tests.conftest import Keys

READS = [("get", "/picus/list"), ("get", "/picus/get/1")]
WRITES = [("post", "/picus/put"), ("put", "/picus/1"), ("delete", "/picus/1")]


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Response:
    body = b"1" if method in {"post", "put"} else None
    headers = {"content-type": "application/json", **headers}
    response: Response = client.request(method.upper(), path, headers=headers, content=body)
    return response


def test_without_a_key_every_operation_is_401_with_a_challenge(keyed_client: TestClient) -> None:
    for method, path in READS + WRITES:
        response = _call(keyed_client, method, path, {})
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == 'Bearer realm="picus"'


def test_a_wrong_key_is_401_with_a_challenge(keyed_client: TestClient) -> None:
    for headers in [
        {"X-API-Key": "picus_not-a-key"},
        {"Authorization": "Bearer picus_not-a-key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
    ]:
        response = keyed_client.get("/picus/list", headers=headers)
        assert_problem(response, 401)
        challenge = response.headers["www-authenticate"]
        assert challenge == 'Bearer realm="picus", error="invalid_token"', headers


def test_a_write_key_works_in_either_header_for_every_operation(
    keyed_client: TestClient, keys: Keys
) -> None:
    for headers in ({"X-API-Key": keys.write}, {"Authorization": f"Bearer {keys.write}"}):
        created = keyed_client.post("/picus/put", json={"a": 1}, headers=headers)
        assert created.status_code == 201
        path = f"/picus/{created.json()['id']}"
        assert keyed_client.get("/picus/list", headers=headers).status_code == 200
        assert keyed_client.get(created.headers["location"], headers=headers).status_code == 200
        assert keyed_client.put(path, json=2, headers=headers).status_code == 200
        assert keyed_client.delete(path, headers=headers).status_code == 204


def test_a_read_key_reads_but_cannot_write(keyed_client: TestClient, keys: Keys) -> None:
    created = keyed_client.post("/picus/put", json=1, headers={"X-API-Key": keys.write})
    item_id = created.json()["id"]
    read = {"X-API-Key": keys.read}
    assert keyed_client.get("/picus/list", headers=read).status_code == 200
    assert keyed_client.get(f"/picus/get/{item_id}", headers=read).status_code == 200
    for method, path in [("post", "/picus/put"), ("put", f"/picus/{item_id}")]:
        body = assert_problem(_call(keyed_client, method, path, read), 403)
        assert "write" in str(body["detail"])
    assert_problem(keyed_client.delete(f"/picus/{item_id}", headers=read), 403)
    assert keyed_client.get(f"/picus/get/{item_id}", headers=read).json()["data"] == 1


def test_probes_spec_and_swagger_ui_stay_open(keyed_client: TestClient) -> None:
    for path in ["/healthz", "/readyz", "/picus/openapi.json", "/picus/ui/"]:
        assert keyed_client.get(path).status_code == 200, path


def test_the_served_spec_declares_the_key_schemes_when_keys_are_on(
    keyed_client: TestClient,
) -> None:
    spec = keyed_client.get("/picus/openapi.json").json()
    assert spec["security"] == [{"apiKey": []}, {"bearerKey": []}]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["apiKey"]["description"],
    }
    assert schemes["bearerKey"]["scheme"] == "bearer"


def test_without_configured_keys_the_api_is_open_and_its_spec_says_so(client: TestClient) -> None:
    assert client.post("/picus/put", json=1).status_code == 201
    assert client.get("/picus/list").status_code == 200
    assert "security" not in client.get("/picus/openapi.json").json()


def test_idempotency_keys_are_kept_per_api_key(settings: Settings, keys: Keys) -> None:
    """Two clients that happen to pick one Idempotency-Key do not see each other's items."""
    other_key, other_entry = new_key("write")
    app = create_app(
        settings.model_copy(update={"api_keys": f"{keys.entries},{other_entry.line()}"})
    )
    with app.test_client() as client:
        ids = [
            client.post(
                "/picus/put", json=1, headers={"X-API-Key": key, "Idempotency-Key": "same"}
            ).json()["id"]
            for key in (keys.write, other_key, keys.write)
        ]
    assert ids[0] != ids[1]
    assert ids[2] == ids[0]


def test_reads_and_the_feed_need_read_and_everything_else_write() -> None:
    spec = load_api_spec(resource_dir("openapi") / "picus.yaml", keys_enabled=True)
    assert required_scopes(spec) == {
        "list_items": "read",
        "get_item": "read",
        "list_changes": "read",
        "create_item": "write",
        "replace_item": "write",
        "patch_item": "write",
        "delete_item": "write",
    }
    assert spec.raw["security"] == [{"apiKey": []}, {"bearerKey": []}]
    open_spec = load_api_spec(resource_dir("openapi") / "picus.yaml", keys_enabled=False)
    assert "security" not in open_spec.raw
    assert not any(
        "security" in op for item in open_spec.raw["paths"].values() for op in item.values()
    )
