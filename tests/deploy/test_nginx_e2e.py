"""Through a real Nginx, rendered from nginx/templates/ with docker-compose.yml's settings.

What a client of the Compose stack sees: the API under /picus/, a problem+json 404 for
every other path, and problem+json (not Nginx's HTML) when Nginx itself refuses or the
app cannot answer; one X-Request-ID on every answer; no version in `Server`.
"""

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest

from devtools.compose import service_environment
from devtools.nginx import Nginx
from devtools.servers import LiveServer, free_port
from tests.api.helpers import assert_problem
from tests.deploy.conftest import NginxFactory

MAX_BODY_BYTES = int(service_environment("nginx")["PICUS_MAX_BODY_BYTES"])
GENERATED_REQUEST_ID = re.compile(r"[0-9a-f]{32}")  # Nginx's $request_id


def _client(nginx: Nginx) -> httpx.Client:
    return httpx.Client(base_url=nginx.url, timeout=10.0)


def _access_log(nginx: Nginx) -> list[dict[str, object]]:
    """Nginx's JSON access log (buffered lines are flushed per request by default)."""
    text = nginx.access_log.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _log_entry(nginx: Nginx, request_id: str, timeout: float = 5.0) -> dict[str, object]:
    """The access log line of one request; Nginx writes it once the request is finalized."""
    deadline = time.monotonic() + timeout
    while True:
        for entry in _access_log(nginx):
            if entry["request_id"] == request_id:
                return entry
        if time.monotonic() > deadline:
            raise AssertionError(f"no access log line for request id {request_id}")
        time.sleep(0.05)


def test_the_four_operations_work_through_nginx(shared_nginx: Nginx) -> None:
    with _client(shared_nginx) as client:
        created = client.post("/picus/put", json={"via": "nginx", "n": [1, 2.5, None]})
        assert created.status_code == 201, created.text
        location = created.headers["Location"]
        assert location == f"/picus/get/{created.json()['id']}"

        got = client.get(location)
        assert got.status_code == 200
        assert got.json()["data"] == {"via": "nginx", "n": [1, 2.5, None]}

        listed = client.get("/picus/list")
        assert listed.status_code == 200
        assert created.json()["id"] in [item["id"] for item in listed.json()]

        deleted = client.delete(f"/picus/{created.json()['id']}")
        assert deleted.status_code == 204
        # The app's own problems pass through unchanged.
        assert_problem(client.get(location), 404)


def test_spec_and_swagger_ui_are_served_under_picus(shared_nginx: Nginx) -> None:
    with _client(shared_nginx) as client:
        spec = client.get("/picus/openapi.json")
        assert spec.status_code == 200
        assert spec.json()["info"]["title"]
        ui = client.get("/picus/ui/")
        assert ui.status_code == 200
        assert "swagger" in ui.text.lower()


@pytest.mark.parametrize(
    "path", ["/", "/admin", "/picus", "/healthz", "/readyz", "/metrics", "/index.html"]
)
def test_every_other_path_is_a_404_problem(shared_nginx: Nginx, path: str) -> None:
    with _client(shared_nginx) as client:
        for method in ("GET", "POST"):
            response = client.request(method, path)
            assert_problem(response, 404)
            assert response.headers["X-Request-ID"]


def test_a_body_over_the_limit_is_a_413_problem_from_nginx(shared_nginx: Nginx) -> None:
    with _client(shared_nginx) as client:
        at_limit = b'"' + b"x" * (MAX_BODY_BYTES - 2) + b'"'
        headers = {"Content-Type": "application/json"}
        accepted = client.post("/picus/put", content=at_limit, headers=headers)
        assert accepted.status_code == 201, accepted.text

        headers["X-Request-ID"] = "too-large-1"
        response = client.post("/picus/put", content=at_limit + b" ", headers=headers)
        body = assert_problem(response, 413)
        assert str(MAX_BODY_BYTES) in str(body["detail"])
    # Nginx refused it itself: the app was never asked.
    entry = _log_entry(shared_nginx, "too-large-1")
    assert entry["status"] == 413
    assert entry["upstream_addr"] == ""


def test_request_id_is_kept_when_well_formed_and_made_otherwise(shared_nginx: Nginx) -> None:
    with _client(shared_nginx) as client:
        kept = client.get("/picus/list", headers={"X-Request-ID": "client-id-42"})
        assert kept.headers.get_list("X-Request-ID") == ["client-id-42"]

        for bad in ("has spaces", "x" * 129, 'quote"s'):
            replaced = client.get("/picus/list", headers={"X-Request-ID": bad})
            assert len(replaced.headers.get_list("X-Request-ID")) == 1
            assert GENERATED_REQUEST_ID.fullmatch(replaced.headers["X-Request-ID"])

        made = client.get("/nowhere")
        assert GENERATED_REQUEST_ID.fullmatch(made.headers["X-Request-ID"])
        assert made.json()["request_id"] == made.headers["X-Request-ID"]


def test_server_header_names_no_version(shared_nginx: Nginx) -> None:
    with _client(shared_nginx) as client:
        for path in ("/picus/list", "/admin"):
            assert client.get(path).headers["Server"] == "nginx"


def test_access_log_is_one_json_object_per_request(shared_nginx: Nginx) -> None:
    with _client(shared_nginx) as client:
        client.get("/picus/list", headers={"X-Request-ID": "log-line-check"})
    entry = _log_entry(shared_nginx, "log-line-check")
    assert entry["uri"] == "/picus/list"
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert entry["remote_addr"] == "127.0.0.1"
    assert isinstance(entry["request_time"], float | int)


def test_writes_over_the_rate_limit_get_a_429_problem_and_reads_do_not(
    shared_app: LiveServer, nginx_factory: NginxFactory
) -> None:
    nginx = nginx_factory(shared_app.port, PICUS_WRITE_RATE="1r/m", PICUS_WRITE_BURST="1")
    with _client(nginx) as client:
        assert client.post("/picus/put", json=1).status_code == 201  # the rate's one
        assert client.post("/picus/put", json=2).status_code == 201  # the burst's one
        assert_problem(client.post("/picus/put", json=3), 429)
        assert_problem(client.delete("/picus/1"), 429)
        for _ in range(5):
            assert client.get("/picus/list").status_code == 200


def test_app_stopped_gives_a_502_problem(
    pg_env: dict[str, str], nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    app = LiveServer(pg_env, log_path=tmp_path_factory.mktemp("app") / "server.log").start()
    try:
        nginx = nginx_factory(app.port)
        with _client(nginx) as client:
            assert client.get("/picus/list").status_code == 200
            assert app.stop() == 0
            for method, path in (("GET", "/picus/list"), ("POST", "/picus/put")):
                response = client.request(method, path, json={"lost": True})
                assert_problem(response, 502)
                assert response.headers["X-Request-ID"]
    finally:
        app.stop()


def test_database_down_503_from_the_app_passes_through_with_retry_after(
    nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    nowhere = f"postgresql+psycopg2://picus@127.0.0.1:{free_port()}/picus"
    log_path = tmp_path_factory.mktemp("app") / "server.log"
    with LiveServer({"DATABASE_URL": nowhere}, log_path=log_path) as app:
        nginx = nginx_factory(app.port)
        with _client(nginx) as client:
            response = client.get("/picus/list")
            assert_problem(response, 503)
            assert int(response.headers["Retry-After"]) >= 1


@pytest.fixture
def silent_upstream() -> Iterator[int]:
    """A port that accepts TCP connections (kernel backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


def test_app_too_slow_gives_a_504_problem(
    silent_upstream: int, nginx_factory: NginxFactory
) -> None:
    nginx = nginx_factory(silent_upstream, PICUS_PROXY_TIMEOUT="1s")
    with _client(nginx) as client:
        assert_problem(client.get("/picus/list"), 504)


class _RecordingHandler(BaseHTTPRequestHandler):
    """Answers 200 and records what Nginx sent: headers, HTTP version, client port."""

    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn does
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append(
            {
                **{name.lower(): value for name, value in self.headers.items()},
                "_version": self.request_version,
                "_peer_port": str(self.client_address[1]),
            }
        )
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-ID", "the-upstream-would-say-this")
        self.end_headers()
        self.wfile.write(body)

    def do_DELETE(self) -> None:
        """Record the request, then die without answering, like a worker killed mid-request."""
        self.seen.append({"_method": "DELETE"})
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads `seen`, not a log."""


@pytest.fixture
def recording_upstream() -> Iterator[tuple[int, list[dict[str, str]]]]:
    """A stand-in app on loopback that records every request Nginx forwards."""
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_RecordingHandler,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_app_gets_the_request_id_and_forwarded_headers_over_keep_alive(
    recording_upstream: tuple[int, list[dict[str, str]]], nginx_factory: NginxFactory
) -> None:
    port, seen = recording_upstream
    nginx = nginx_factory(port)
    with _client(nginx) as client:
        first = client.get("/picus/list", headers={"X-Request-ID": "abc-1", "Host": "picus.test"})
        second = client.get("/picus/list")
    assert first.headers.get_list("X-Request-ID") == ["abc-1"]  # Nginx's, not the upstream's
    assert GENERATED_REQUEST_ID.fullmatch(second.headers["X-Request-ID"])
    assert [request["x-request-id"] for request in seen] == [
        "abc-1",
        second.headers["X-Request-ID"],
    ]
    forwarded = seen[0]
    assert forwarded["x-forwarded-for"] == "127.0.0.1"
    assert forwarded["x-forwarded-proto"] == "http"
    assert forwarded["x-forwarded-host"] == "picus.test"
    assert forwarded["host"] == "picus.test"
    # HTTP/1.1 without "Connection: close": both requests share one upstream connection.
    assert forwarded["_version"] == "HTTP/1.1"
    assert "connection" not in forwarded
    assert seen[0]["_peer_port"] == seen[1]["_peer_port"]


def test_a_request_the_app_dropped_is_a_502_and_never_sent_twice(
    recording_upstream: tuple[int, list[dict[str, str]]], nginx_factory: NginxFactory
) -> None:
    port, seen = recording_upstream
    nginx = nginx_factory(port)
    with _client(nginx) as client:
        assert client.get("/picus/list").status_code == 200  # leaves a kept-alive connection
        # The DELETE goes over that connection, and the app drops it: Nginx's classic retry
        # case. Had the app committed the delete first, a second try would answer 404.
        assert_problem(client.delete("/picus/7"), 502)
    assert [request.get("_method", "GET") for request in seen] == ["GET", "DELETE"]


def test_the_change_stream_passes_through_nginx_unbuffered(shared_nginx: Nginx) -> None:
    """An event reaches a client through Nginx within seconds of the write (the app's
    `X-Accel-Buffering: no` turns Nginx's buffering off for the stream)."""
    with httpx.Client(base_url=shared_nginx.url, timeout=10.0) as client:
        latest = client.get("/picus/changes", params={"limit": 1000}).headers.get(
            "Picus-Changes-Latest", "0"
        )
        with client.stream(
            "GET",
            "/picus/changes",
            params={"since": latest},
            headers={"Accept": "text/event-stream"},
        ) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            created = client.post("/picus/put", json={"streamed": True})
            assert created.status_code == 201
            written = time.monotonic()
            item_id = created.json()["id"]
            for line in stream.iter_lines():
                if line.startswith("data:") and json.loads(line[5:])["id"] == item_id:
                    break
            assert time.monotonic() - written < 5, "the event was held back"
