"""Stalled list clients: does a get by id still answer while many lists are never read?

A client that asks for the whole list and stops reading (a crashed consumer, a slow mobile
link) must not take the service down with it. CLIENTS raw sockets each send
`GET /picus/list` and never read; their receive buffer is fixed small before connecting
(no autotuning), and the table is large (the runner fills it with SQL first), so the
answer cannot fit in the sockets' buffers and the server is left holding each one: a
database connection, a cursor, a thread or a buffered body, whatever its design uses.
While they stay, PROBES sequential gets by id (a fresh connection each, as a new client
would come) are timed; then the sockets are closed and one more get shows recovery.
"""

import fcntl
import socket
import statistics
import struct
import termios
import time

import httpx

CLIENTS = 24
PROBES = 20
PROBE_TIMEOUT_SECONDS = 5.0
RECEIVE_BUFFER_BYTES = 64 * 1024
# Time for the server to accept the lists, start every answer and fill the buffers.
SETTLE_SECONDS = 1.0
RECOVERY_SECONDS = 1.0


def stalled_lists(base_url: str, first_id: int, last_id: int) -> dict[str, float]:
    """Open CLIENTS stalled lists, time PROBES gets by id, close them; the figures in ms."""
    url = httpx.URL(base_url)
    host, port = url.host, url.port or 80
    request = f"GET /picus/list HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    sockets: list[socket.socket] = []
    try:
        for _ in range(CLIENTS):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            sock.settimeout(PROBE_TIMEOUT_SECONDS)
            sock.connect((host, port))
            sock.sendall(request)
        time.sleep(SETTLE_SECONDS)
        ids = [first_id + (n * 7919) % (last_id - first_id + 1) for n in range(PROBES)]
        timings = [_get(base_url, item) for item in ids]
        started = sum(1 for sock in sockets if _unread_bytes(sock) > 0)
    finally:
        for sock in sockets:
            sock.close()
    time.sleep(RECOVERY_SECONDS)
    after_ms, after_ok = _get(base_url, first_id)
    latencies = [ms for ms, _ in timings]
    return {
        "clients": CLIENTS,
        "answers begun": started,
        "probes": PROBES,
        "failed": sum(1 for _, ok in timings if not ok),
        "median ms": round(statistics.median(latencies), 1),
        "max ms": round(max(latencies), 1),
        "after closing ms": round(after_ms, 1) if after_ok else -1.0,
    }


def _get(base_url: str, item: int) -> tuple[float, bool]:
    """One GET /picus/get/{item} on a new connection: (milliseconds, answered 200)."""
    started = time.perf_counter()
    try:
        response = httpx.get(f"{base_url}/picus/get/{item}", timeout=PROBE_TIMEOUT_SECONDS)
        ok = response.status_code == httpx.codes.OK
    except httpx.HTTPError:
        ok = False
    return 1000 * (time.perf_counter() - started), ok


def _unread_bytes(sock: socket.socket) -> int:
    """Bytes waiting in the socket's receive buffer (FIONREAD): > 0 once an answer began."""
    try:
        raw = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4)
    except OSError:
        return 0
    count: int = struct.unpack("i", raw)[0]
    return count
