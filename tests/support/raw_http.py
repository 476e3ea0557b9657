"""HTTP/1.1 over a plain socket, for requests no well-behaved client library would send.

(`//picus/list`, a forged Host, a mixed-case Content-Type, hand-made chunking.) Every
socket operation has a timeout, so a server that never answers fails the test instead of
hanging it.
"""

import socket
from dataclasses import dataclass

import h11

TIMEOUT = 10.0


@dataclass(frozen=True)
class RawResponse:
    """A parsed answer: status, headers (lower-case names), body."""

    status: int
    headers: dict[str, str]
    body: bytes


def exchange(port: int, request: bytes, host: str = "127.0.0.1") -> RawResponse:
    """Send `request` as it is to 127.0.0.1:`port`; read and parse one response."""
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        return read_response(sock)


def read_response(sock: socket.socket) -> RawResponse:
    """Read one HTTP/1.1 response from `sock` (h11 parses it, as a client library would)."""
    connection = h11.Connection(h11.CLIENT)
    # h11 must believe it sent a request before it will read a response.
    connection.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    connection.send(h11.EndOfMessage())
    status, headers, body = 0, {}, bytearray()
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            connection.receive_data(sock.recv(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
            headers = {k.decode().lower(): v.decode() for k, v in event.headers}
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            return RawResponse(status, headers, bytes(body))


def request(
    method: str, target: str, *, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    """A request's bytes, exactly as given (no normalisation of the target or headers)."""
    given = headers or {}
    defaults = {"Host": "127.0.0.1", "Connection": "close"}
    named = {name.lower() for name in given}
    fields = {**{k: v for k, v in defaults.items() if k.lower() not in named}, **given}
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in fields.items()]
    if body and not any(name.lower() == "transfer-encoding" for name in headers or {}):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*pieces: bytes) -> bytes:
    """`pieces` in chunked transfer coding, with the last chunk."""
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def stalled_list_reader(port: int) -> socket.socket:
    """A client that asks for the whole list and then reads nothing (a tiny receive
    buffer, so the answer cannot hide in the socket's buffers). Close it when done."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /picus/list HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return sock
