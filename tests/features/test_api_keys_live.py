"""API keys the way the Compose stack sets them: a secret file, and keys required."""

from pathlib import Path

import httpx

from devtools.servers import LiveServer
from picus.apikeys import new_key


def test_a_server_reading_keys_from_a_secret_file_enforces_them(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    key, entry = new_key("write")
    secret = tmp_path / "picus_api_keys"
    secret.write_text(f"# picus keys new --scope write\n{entry.line()}\n")
    env = {**pg_env, "PICUS_API_KEYS_FILE": str(secret), "PICUS_REQUIRE_API_KEYS": "true"}
    with (
        LiveServer(env, log_path=tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        refused = client.post("/picus/put", json=1)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        created = client.post("/picus/put", json=1, headers={"Authorization": f"Bearer {key}"})
        assert created.status_code == 201
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
    assert key not in (tmp_path / "server.log").read_text(errors="replace")
