"""The hardened edge, through a real Nginx rendered from nginx/templates/ with docker-compose.yml's
settings: each test fails without the piece of the template it names.

- every status Nginx answers itself is problem+json (400, 405, 414, 494 sent as 400, 501,
  505, ...), and a client that times out gets no HTML either (Nginx closes; its 408 is
  never sent);
- a streamed list that nobody reads is never spooled to disk (proxy_buffering off for the
  list, proxy_max_temp_file_size 0 for everything else);
- requests in progress per client address are limited (limit_conn), reads have a rate
  limit next to the write limit;
- the address the app and the logs see is Nginx's view of the client (X-Forwarded-For
  from $remote_addr; only a configured proxy in front may name another), and the app
  believes X-Forwarded-For from Nginx's address only;
- the optional TLS listener serves the same API with HSTS; plain HTTP to it is a 400
  problem.
"""

import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import httpx
import psycopg2
import pytest
from sqlalchemy.engine import URL

from devtools.nginx import Nginx
from devtools.processes import children, deleted_open_file_bytes
from devtools.servers import LiveServer, free_port
from tests.api.helpers import assert_problem
from tests.deploy.conftest import NginxFactory
from tests.support.raw_http import read_response, stalled_list_reader

SPOOL_LIMIT = 1024 * 1024  # bytes Nginx may hold in temporary files for stalled readers


def _raw(port: int, data: bytes, source: str = "127.0.0.1", timeout: float = 10.0) -> bytes:
    """Send `data` from `source` and read until Nginx closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout, (source, 0)) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


CLOSE = b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def _parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


NGINX_OWN_ERRORS = {
    "a request line that is not HTTP": (b"GARBAGE\r\n\r\n", 400),
    "no Host header": (b"GET /picus/list HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
    "a header over 8 KB (494)": (
        b"GET /picus/list HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
        400,
    ),
    "a 10 KB URI": (b"GET /picus/" + b"a" * 10240 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "TRACE": (b"TRACE /picus/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
    "an unknown transfer coding": (
        b"POST /picus/put HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        501,
    ),
    "HTTP/2.0 in plain text": (b"GET /picus/list HTTP/2.0\r\nHost: x\r\n\r\n", 505),
}


@pytest.mark.parametrize("case", sorted(NGINX_OWN_ERRORS))
def test_every_status_nginx_answers_itself_is_problem_json(shared_nginx: Nginx, case: str) -> None:
    request, expected = NGINX_OWN_ERRORS[case]
    status, headers, body = _parse(_raw(shared_nginx.port, request))
    assert status == expected, body
    assert headers["content-type"] == "application/problem+json", body
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    assert problem["request_id"] == headers["x-request-id"]


@pytest.mark.parametrize(
    "partial",
    [
        b"GET /picus/list HTTP/1.1\r\nHost: x\r\n",  # the head never ends
        b"POST /picus/put HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{",  # the body never comes
    ],
    ids=["head", "body"],
)
def test_a_client_that_stops_sending_is_dropped_without_an_html_page(
    shared_app: LiveServer, nginx_factory: NginxFactory, partial: bytes
) -> None:
    nginx = nginx_factory(shared_app.port, PICUS_CLIENT_TIMEOUT="1s")
    started = time.monotonic()
    assert _raw(nginx.port, partial) == b""  # closed, nothing sent: no HTML 408
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while '"status":408' not in nginx.access_log.read_text(encoding="utf-8"):
        assert time.monotonic() < deadline, "no 408 in the access log"
        time.sleep(0.05)


# --- a streamed list nobody reads -------------------------------------------------------

ITEMS = 60_000  # about 13 MB of list: far more than socket and proxy buffers hold
STALLED = 3


@pytest.fixture
def big_table(pg_url: URL, pg_env: dict[str, str]) -> dict[str, str]:
    """The (emptied) session database with ITEMS documents; the app's environment."""
    dsn = pg_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO items (data, created_at, updated_at, version) "
            "SELECT jsonb_build_object('n', n, 'pad', repeat('x', 150)), now(), now(), 1 "
            "FROM generate_series(1, %s) AS n",
            (ITEMS,),
        )
        conn.commit()
    return pg_env


def _spooled_bytes(nginx: Nginx) -> int:
    """Bytes in Nginx's temporary files: those on disk, and the deleted ones its workers
    still hold open (Nginx unlinks a proxy temp file right after creating it)."""
    assert nginx.process is not None
    temp = nginx.prefix / "temp"
    total = sum(path.stat().st_size for path in temp.rglob("*") if path.is_file())
    for worker in children(nginx.process.pid):
        total += deleted_open_file_bytes(worker, temp)
    return total


def test_a_list_nobody_reads_is_never_spooled_to_disk(
    big_table: dict[str, str], nginx_factory: NginxFactory, tmp_path: Path
) -> None:
    with LiveServer(big_table, log_path=tmp_path / "server.log") as app:
        nginx = nginx_factory(app.port)
        with ExitStack() as stalled:
            for _ in range(STALLED):
                stalled.enter_context(stalled_list_reader(nginx.port))
            time.sleep(2.0)  # what Nginx would spool, it has spooled by now (~13 MB each)
            spooled = _spooled_bytes(nginx)
            # Meanwhile others are served as usual.
            with httpx.Client(base_url=nginx.url, timeout=5) as client:
                first = client.get("/picus/list", params={"limit": 1}).json()[0]["id"]
                assert client.get(f"/picus/get/{first}").status_code == 200
        assert spooled < SPOOL_LIMIT, f"{spooled} bytes spooled for {STALLED} stalled readers"
        # The same list still reaches a client that reads it, complete.
        with httpx.Client(base_url=nginx.url, timeout=30) as client:
            assert len(client.get("/picus/list").json()) == ITEMS


# --- limits per client address ------------------------------------------------------------


@pytest.fixture
def silent_upstream() -> Iterator[int]:
    """A port that accepts TCP connections (kernel backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


def _pending(port: int, source: str) -> socket.socket:
    """A request from `source` whose answer is still to come (the app is slow)."""
    sock = socket.create_connection(("127.0.0.1", port), 10, (source, 0))
    sock.sendall(b"GET /picus/list HTTP/1.1\r\nHost: x\r\n\r\n")
    return sock


def test_requests_in_progress_are_limited_per_client_address(
    silent_upstream: int, nginx_factory: NginxFactory
) -> None:
    nginx = nginx_factory(silent_upstream, PICUS_CONN_PER_ADDRESS="2", PICUS_PROXY_TIMEOUT="3s")
    with ExitStack() as pending:
        for _ in range(2):
            pending.enter_context(_pending(nginx.port, "127.0.0.2"))
        time.sleep(0.3)  # both heads read: both count
        refused = _raw(nginx.port, CLOSE % b"/picus/list", "127.0.0.2")
        status, headers, body = _parse(refused)
        assert status == 429, body
        assert headers["content-type"] == "application/problem+json"
        assert "in progress" in json.loads(body)["detail"]
        # Another address is not held back by that one: its request reaches the (slow) app.
        other = _pending(nginx.port, "127.0.0.3")
        with closing(other):
            other.settimeout(10)
            assert read_response(other).status == 504


def test_reads_have_a_rate_limit_of_their_own(
    shared_app: LiveServer, nginx_factory: NginxFactory
) -> None:
    nginx = nginx_factory(shared_app.port, PICUS_READ_RATE="1r/m", PICUS_READ_BURST="1")
    with httpx.Client(base_url=nginx.url, timeout=10) as client:
        assert client.get("/picus/list", params={"limit": 1}).status_code == 200  # the rate's
        assert client.get("/picus/openapi.json").status_code == 200  # the burst's
        limited = client.get("/picus/list", params={"limit": 1})
        body = assert_problem(limited, 429)
        assert "slow down" in str(body["detail"])
        assert client.head("/picus/list").status_code == 429
        # Writes count against their own limit, not this one.
        assert client.post("/picus/put", json={"written": True}).status_code == 201


# --- the client's address ------------------------------------------------------------------


@pytest.fixture
def recording_upstream() -> Iterator[tuple[int, list[str]]]:
    """A stand-in app on loopback that records the X-Forwarded-For Nginx sends."""
    seen: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(0.2)
        stop = threading.Event()

        def serve() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.settimeout(5)
                    head = b""
                    while b"\r\n\r\n" not in head and (chunk := conn.recv(65536)):
                        head += chunk
                    for line in head.decode("latin-1").split("\r\n"):
                        if line.lower().startswith("x-forwarded-for:"):
                            seen.append(line.split(":", 1)[1].strip())
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 2\r\nConnection: close\r\n\r\n[]"
                    )

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield int(listener.getsockname()[1]), seen
        finally:
            stop.set()
            thread.join(5)


SPOOFED = (
    b"GET /picus/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    b"X-Forwarded-For: 203.0.113.66\r\n\r\n"
)


def test_a_client_cannot_choose_the_address_nginx_forwards(
    recording_upstream: tuple[int, list[str]], nginx_factory: NginxFactory
) -> None:
    port, seen = recording_upstream
    nginx = nginx_factory(port)
    status, _, _ = _parse(_raw(nginx.port, SPOOFED, source="127.0.0.2"))
    assert status == 200
    assert seen == ["127.0.0.2"]  # not "203.0.113.66, 127.0.0.2"
    entries = [json.loads(line) for line in nginx.access_log.read_text().splitlines()]
    assert entries[-1]["remote_addr"] == "127.0.0.2"


def test_only_a_configured_proxy_in_front_may_name_the_client(
    recording_upstream: tuple[int, list[str]], nginx_factory: NginxFactory
) -> None:
    port, seen = recording_upstream
    nginx = nginx_factory(port, PICUS_REAL_IP_FROM="127.0.0.3/32")
    _raw(nginx.port, SPOOFED, source="127.0.0.3")  # the load balancer in front
    _raw(nginx.port, SPOOFED, source="127.0.0.2")  # anyone else
    assert seen == ["203.0.113.66", "127.0.0.2"]


def _client_logged(log: Path, request_id: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.startswith("{") and request_id in line:
                entry = json.loads(line)
                if entry.get("logger") == "picus.access":
                    return str(entry["client"])
        time.sleep(0.05)
    raise AssertionError(f"no access line for {request_id} in {log}")


def test_the_app_logs_nginx_s_view_of_the_client_never_the_client_s_claim(
    pg_env: dict[str, str], nginx_factory: NginxFactory, tmp_path: Path
) -> None:
    # The app trusts X-Forwarded-For from Nginx's address only: 127.0.0.1 here, uvicorn's
    # default; in Compose, FORWARDED_ALLOW_IPS is the nginx service's fixed address.
    env = {**pg_env, "PICUS_LOG_FORMAT": "json", "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    log = tmp_path / "server.log"
    with LiveServer(env, log_path=log) as app:
        nginx = nginx_factory(app.port)
        spoofed = {"X-Forwarded-For": "203.0.113.66", "Connection": "close"}
        through = SPOOFED.replace(b"Host: x", b"Host: x\r\nX-Request-ID: via-nginx")
        assert _parse(_raw(nginx.port, through, source="127.0.0.2"))[0] == 200
        assert _client_logged(log, "via-nginx") == "127.0.0.2"
        # Straight to the app from an address it does not trust: the header is ignored.
        head = "".join(f"{k}: {v}\r\n" for k, v in spoofed.items())
        direct = f"GET /picus/list HTTP/1.1\r\nHost: x\r\nX-Request-ID: direct\r\n{head}\r\n"
        assert _parse(_raw(app.port, direct.encode(), source="127.0.0.2"))[0] == 200
        assert _client_logged(log, "direct") == "127.0.0.2"


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl, as an operator would make one)."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


def test_the_tls_listener_serves_the_api_with_hsts(
    shared_app: LiveServer, nginx_factory: NginxFactory, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    tls_port = free_port()
    nginx = nginx_factory(
        shared_app.port,
        PICUS_TLS="on",
        PICUS_TLS_LISTEN=f"127.0.0.1:{tls_port}",
        PICUS_TLS_CERTIFICATE=str(cert),
        PICUS_TLS_KEY=str(key),
    )
    trusted = ssl.create_default_context(cafile=str(cert))
    with httpx.Client(base_url=f"https://127.0.0.1:{tls_port}", verify=trusted) as client:
        served = client.get("/picus/openapi.json")
        assert served.status_code == 200
        assert served.headers["Strict-Transport-Security"] == "max-age=31536000"
        problem = client.get("/nowhere")
        assert_problem(problem, 404)
        assert problem.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Plain HTTP: no HSTS (a browser would ignore it there anyway).
    assert "Strict-Transport-Security" not in httpx.get(f"{nginx.url}/picus/openapi.json").headers
    # Plain HTTP sent to the TLS port: a 400 problem, not Nginx's HTML page.
    status, headers, body = _parse(
        _raw(tls_port, b"GET /picus/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    )
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 400


def test_tls_is_off_unless_asked_for(shared_app: LiveServer, nginx_factory: NginxFactory) -> None:
    tls_port = free_port()
    nginx = nginx_factory(shared_app.port, PICUS_TLS_LISTEN=f"127.0.0.1:{tls_port}")
    assert httpx.get(f"{nginx.url}/picus/openapi.json").status_code == 200
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", tls_port), timeout=2).close()
