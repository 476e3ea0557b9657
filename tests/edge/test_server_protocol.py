"""PicusHttpToolsProtocol under a real uvicorn, spoken to over raw sockets like hostile clients.

Each server runs in a thread on a free 127.0.0.1 port with a tiny ASGI app of its own (not
Picus's), and every socket operation has a timeout, so no test can hang.
"""

import asyncio
import inspect
import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import httptools
import pytest
import uvicorn
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.protocols.http import flow_control
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from picus.http.server_protocol import MAX_HEAD_BYTES, MAX_URL_BYTES, PicusHttpToolsProtocol

IO_TIMEOUT = 5.0  # any single socket operation; far above what a passing test needs
HEAD_TIMEOUT = 0.5
KEEP_ALIVE = 1


class FastProtocol(PicusHttpToolsProtocol):
    """A short head timeout, so that the timeout tests take about a second."""

    head_timeout_s = HEAD_TIMEOUT


async def echo_app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Answers the length and Content-Type of the body it read; /crash fails instead."""
    assert scope["type"] == "http"
    if scope["path"] == "/crash":
        raise RuntimeError("the app failed")
    length = 0
    more = True
    while more:
        message = await receive()
        assert message["type"] == "http.request"
        length += len(message.get("body", b""))
        more = message.get("more_body", False)
    content_type = dict(scope["headers"]).get(b"content-type", b"").decode()
    body = json.dumps({"length": length, "content_type": content_type}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def serving(**config: Any) -> Iterator[int]:
    """uvicorn with FastProtocol in a thread; yields its port and stops it afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    settings: dict[str, Any] = {"http": FastProtocol, "timeout_keep_alive": KEEP_ALIVE}
    settings.update(config)
    # log_config=None: leave the test process's logging alone (uvicorn's records propagate).
    server = uvicorn.Server(
        uvicorn.Config(echo_app, lifespan="off", log_config=None, access_log=False, **settings)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + IO_TIMEOUT
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        thread.join(IO_TIMEOUT)
        sock.close()


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with serving() as port:
        yield port


class Client:
    """A raw socket and the bytes read from it but not yet taken as a response."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pending = b""

    def send_all(self, data: bytes) -> None:
        """Send like a client that does not stop to listen; the server may close meanwhile."""
        with suppress(BrokenPipeError, ConnectionResetError):
            self.sock.sendall(data)

    def _read_more(self, what: str) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, f"connection closed {what}, after {self.pending[:200]!r}"
        self.pending += chunk

    def read_response(self) -> tuple[int, dict[str, str], bytes]:
        """One response: status, headers (lower-case names) and the Content-Length body."""
        while b"\r\n\r\n" not in self.pending:
            self._read_more("before the end of a response head")
        head, _, self.pending = self.pending.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        while len(self.pending) < length:
            self._read_more("inside a response body")
        body, self.pending = self.pending[:length], self.pending[length:]
        return int(status_line.split()[1]), headers, body

    def assert_closed(self) -> None:
        """The server closes the connection in order (FIN, not a reset) after its answer.

        A reset (the kernel's answer to closing with unread input) can destroy the answer
        before a client reads it; the protocol's lingering close avoids it.
        """
        while chunk := self.sock.recv(65536):
            self.pending += chunk
        assert self.pending == b"", "bytes after the last response"

    def assert_problem(self, status: int) -> dict[str, Any]:
        """The next response is a problem+json `status`, and the server then closes."""
        got, headers, body = self.read_response()
        assert got == status, body
        assert headers["content-type"] == "application/problem+json"
        assert headers["connection"] == "close"
        problem: dict[str, Any] = json.loads(body)
        assert problem["type"] == "about:blank"
        assert problem["status"] == status
        assert isinstance(problem["title"], str)
        assert isinstance(problem["detail"], str)
        self.assert_closed()
        return problem

    def stream_until_answered(self, prefix: bytes) -> None:
        """Send `prefix`, then an endless run of "a" until the server answers or closes."""
        self.sock.sendall(prefix)
        sent = 0
        while not select.select([self.sock], [], [], 0.01)[0]:
            assert sent < 20_000_000, "no answer after 20 MB of one line"
            try:
                sent += self.sock.send(b"a" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                return

    def get(self, path: str = "/") -> dict[str, Any]:
        """A GET on a kept-alive connection; the app's answer."""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        status, _, body = self.read_response()
        assert status == 200, body
        answer: dict[str, Any] = json.loads(body)
        return answer


@contextmanager
def connection(port: int) -> Iterator[Client]:
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as sock:
        yield Client(sock)


@pytest.mark.parametrize("size", [100_000, 1_000_000])
def test_a_huge_header_is_431_and_the_server_serves_the_next_client(port: int, size: int) -> None:
    """Both are refused early. At 1 MB input is still unread when the server is done, and
    only its lingering close (FIN, then drain) spares the client a reset (see assert_closed).
    """
    with connection(port) as client:
        client.send_all(b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * size + b"\r\n\r\n")
        client.assert_problem(431)
    with connection(port) as client:
        assert client.get()["length"] == 0


def test_many_small_headers_over_the_limit_are_431(port: int) -> None:
    """The limit is on the whole head, not only on one header."""
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(200))  # ~22 KB
    with connection(port) as client:
        client.send_all(b"GET / HTTP/1.1\r\nHost: test\r\n" + headers + b"\r\n")
        client.assert_problem(431)


def test_an_endless_header_line_is_refused_while_it_is_still_arriving(port: int) -> None:
    """The server answers 431 without waiting for (and buffering) the end of the header."""
    with connection(port) as client:
        client.stream_until_answered(b"GET / HTTP/1.1\r\nHost: test\r\nX-Endless: ")
        client.assert_problem(431)


def test_an_endless_trailer_line_is_refused_while_it_is_still_arriving(port: int) -> None:
    """httptools buffers trailers like headers; they count towards the same limit."""
    with connection(port) as client:
        client.stream_until_answered(
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n0\r\nX-Endless: "
        )
        client.assert_problem(431)


def test_a_20_kb_url_is_414_and_not_echoed(port: int) -> None:
    with connection(port) as client:
        client.send_all(b"GET /" + b"marker" * 3400 + b" HTTP/1.1\r\nHost: test\r\n\r\n")
        problem = client.assert_problem(414)
    assert "marker" not in json.dumps(problem)


def test_a_url_over_64_kb_is_414(port: int) -> None:
    """uvicorn alone answers it 400 text/plain: httptools.parse_url refuses over 65535 bytes."""
    with connection(port) as client:
        client.send_all(b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: test\r\n\r\n")
        client.assert_problem(414)


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: -1\r\n\r\n", id="negative-length"
        ),
        pytest.param(b"FOO / HTTP/1.1\r\nHost: test\r\n\r\n", id="unknown-method"),
        pytest.param(b"\x00\x01 garbage \xff\r\n\r\n", id="garbage-request-line"),
        pytest.param(b"GET / HTTP/1.1 extra\r\nHost: test\r\n\r\n", id="malformed-request-line"),
        pytest.param(b"GET /\xc3\xa9 HTTP/1.1\r\nHost: test\r\n\r\n", id="non-ascii-path"),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            id="bad-chunk-size",
        ),
    ],
)
def test_malformed_requests_are_400_problems(port: int, request_bytes: bytes) -> None:
    with connection(port) as client:
        client.send_all(request_bytes)
        problem = client.assert_problem(400)
    assert problem["title"] == "Bad Request"
    assert "garbage" not in problem["detail"]


def test_a_connection_that_sends_nothing_is_closed_after_the_head_timeout(port: int) -> None:
    with connection(port) as client:
        started = time.monotonic()
        client.assert_closed()
        assert time.monotonic() - started < HEAD_TIMEOUT + 1.0


def test_half_a_request_line_then_silence_is_408(port: int) -> None:
    with connection(port) as client:
        client.sock.sendall(b"GET /slow HT")
        started = time.monotonic()
        client.assert_problem(408)
        assert time.monotonic() - started < HEAD_TIMEOUT + 1.0


def test_a_trickled_head_after_a_response_is_408(port: int) -> None:
    """uvicorn's keep-alive timer stops at the first byte; the head timeout does not."""
    with connection(port) as client:
        client.get()
        client.sock.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        client.assert_problem(408)
        assert time.monotonic() - started < max(HEAD_TIMEOUT, KEEP_ALIVE) + 1.0


def test_a_keep_alive_client_makes_two_requests(port: int) -> None:
    """Not a hardening: the protocol must still serve a normal client."""
    with connection(port) as client:
        assert client.get("/one")["length"] == 0
        assert client.get("/two")["length"] == 0


def test_a_chunked_body_with_a_mixed_case_content_type_reaches_the_app(port: int) -> None:
    """Not a hardening: counting head bytes must not disturb the body or the headers."""
    chunks = [b"x" * 1000, b"y" * 40_000, b"z" * 7]
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
    body += b"0\r\nX-Trailer: " + b"t" * 1000 + b"\r\n\r\n"
    with connection(port) as client:
        client.sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: test\r\n"
            b"CoNtEnT-TyPe: Application/JSON; Charset=UTF-8\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        # Pieces (and so reads) wholly inside a chunk's data; the last starts inside the
        # trailer, which then spans two reads.
        for start in range(0, len(body) - 600, 5000):
            client.sock.sendall(body[start : min(start + 5000, len(body) - 600)])
            time.sleep(0.005)
        client.sock.sendall(body[-600:])
        status, _, answer = client.read_response()
    assert status == 200
    assert json.loads(answer) == {
        "length": 41_007,
        "content_type": "Application/JSON; Charset=UTF-8",
    }


def test_only_head_bytes_count_towards_the_limit(port: int) -> None:
    """A head just under the limit, a large body and a pipelined request, all in one send."""
    filler = b"X-Filler: " + b"f" * (MAX_HEAD_BYTES - 200) + b"\r\n"
    body = b"b" * 300_000
    first = b"POST / HTTP/1.1\r\nHost: test\r\n%sContent-Length: %d\r\n\r\n%s" % (
        filler,
        len(body),
        body,
    )
    second = b"GET / HTTP/1.1\r\nHost: test\r\n" + filler + b"\r\n"
    with connection(port) as client:
        client.sock.sendall(first + second)
        status, _, answer = client.read_response()
        assert (status, json.loads(answer)["length"]) == (200, len(body))
        status, _, answer = client.read_response()
        assert (status, json.loads(answer)["length"]) == (200, 0)


def test_a_head_under_the_limit_sent_in_small_pieces_is_served(port: int) -> None:
    head = b"GET / HTTP/1.1\r\nHost: test\r\nX-Filler: " + b"f" * (MAX_HEAD_BYTES - 200)
    head += b"\r\n\r\n"
    with connection(port) as client:
        for start in range(0, len(head), 1000):
            client.sock.sendall(head[start : start + 1000])
            time.sleep(0.002)
        status, _, _ = client.read_response()
    assert status == 200


def test_a_url_under_the_limit_is_served(port: int) -> None:
    with connection(port) as client:
        assert client.get("/" + "a" * (MAX_URL_BYTES - 100))["length"] == 0


def test_an_app_failure_is_a_500_problem(port: int) -> None:
    with connection(port) as client:
        client.sock.sendall(b"GET /crash HTTP/1.1\r\nHost: test\r\n\r\n")
        client.assert_problem(500)


def test_over_the_concurrency_limit_is_a_503_problem() -> None:
    # With limit_concurrency=1 the asking connection itself reaches the limit.
    with serving(limit_concurrency=1) as port, connection(port) as client:
        client.sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        client.assert_problem(503)


def test_uvicorn_internals_still_exist() -> None:
    """Fails loudly when a uvicorn or httptools upgrade renames what the protocol relies on.

    The list is the module docstring's of picus/http/server_protocol.py.
    """
    for name in [
        "connection_made",
        "connection_lost",
        "data_received",
        "send_400_response",
        "on_message_begin",
        "on_url",
        "on_header",
        "on_headers_complete",
        "on_body",
        "on_message_complete",
        "on_response_complete",
        "_start_asgi_task",
        "_unset_keepalive_if_required",
        "_should_upgrade",
        "handle_websocket_upgrade",
        "_unsupported_upgrade_warning",
    ]:
        assert callable(getattr(HttpToolsProtocol, name, None)), name
        base = inspect.signature(getattr(HttpToolsProtocol, name))
        assert inspect.signature(getattr(PicusHttpToolsProtocol, name)) == base, name
    assert list(inspect.signature(HttpToolsProtocol.__init__).parameters) == [
        "self",
        "config",
        "server_state",
        "app_state",
        "_loop",
    ]
    assert list(inspect.signature(HttpToolsProtocol._start_asgi_task).parameters) == [
        "self",
        "cycle",
        "app",
    ]

    loop = asyncio.new_event_loop()
    try:
        config = uvicorn.Config(echo_app, log_config=None)
        protocol = HttpToolsProtocol(config, ServerState(), {}, _loop=loop)
        for attribute in ["parser", "transport", "cycle", "loop", "logger", "timeout_keep_alive"]:
            assert hasattr(protocol, attribute), attribute
        assert isinstance(protocol.server_state.default_headers, list)
    finally:
        loop.close()

    for name in ["send", "send_500_response", "run_asgi"]:
        assert callable(getattr(RequestResponseCycle, name, None)), name
    # run_asgi must still call the method this module replaces per cycle.
    assert "self.send_500_response()" in inspect.getsource(RequestResponseCycle.run_asgi)
    cycle_init = inspect.getsource(RequestResponseCycle.__init__)
    assert "self.response_started" in cycle_init
    assert "self.response_complete" in cycle_init
    assert callable(flow_control.service_unavailable)
    assert "service_unavailable" in inspect.getsource(HttpToolsProtocol.on_headers_complete)
    assert issubclass(httptools.HttpParserCallbackError, httptools.HttpParserError)
    for error in ["HttpParserInvalidMethodError", "HttpParserInvalidURLError"]:
        assert issubclass(getattr(httptools, error), httptools.HttpParserError), error
