"""A burst: many client connections opened at once, each asking for one list page.

Plain asyncio streams with h11 (the HTTP/1.1 parser under httpx) keep the client's own
cost per connection small, so the time measured is Nginx's and Picus's, not the soak's.
Every answer is recorded and checked like the load's own.
"""

import asyncio
import time
from urllib.parse import urlsplit

import h11
import httpx

from soak.outcomes import NO_ANSWER, TIMEOUT, Outcome, Recorder, malformed

BURST_TARGET = "/picus/list?limit=10"
READ_CHUNK = 65536


def burst(base_url: str, connections: int, timeout: float, recorder: Recorder) -> None:
    """Open `connections` connections at once; return when every one has its answer."""
    asyncio.run(_burst(base_url, connections, timeout, recorder))


async def _burst(base_url: str, connections: int, timeout: float, recorder: Recorder) -> None:
    address = urlsplit(base_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    await asyncio.gather(*(_one(host, port, timeout, recorder) for _ in range(connections)))


async def _one(host: str, port: int, timeout: float, recorder: Recorder) -> None:
    sent = time.monotonic()
    try:
        response = await asyncio.wait_for(_exchange(host, port), timeout)
    except TimeoutError:
        recorder.add(Outcome("burst", sent, time.monotonic(), None, f"{TIMEOUT}: {timeout} s"))
        return
    except (OSError, h11.ProtocolError, EOFError) as exc:
        recorder.add(Outcome("burst", sent, time.monotonic(), None, f"{NO_ANSWER}: {exc!r}"))
        return
    problem = malformed("burst", response)
    recorder.add(Outcome("burst", sent, time.monotonic(), response.status_code, problem))


async def _exchange(host: str, port: int) -> httpx.Response:
    """One request on its own connection, read to the end of the answer."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        connection = h11.Connection(h11.CLIENT)
        request = h11.Request(
            method="GET",
            target=BURST_TARGET,
            headers=[("Host", f"{host}:{port}"), ("Connection", "close")],
        )
        writer.write(connection.send(request) + connection.send(h11.EndOfMessage()))
        await writer.drain()
        head: h11.Response | None = None
        body = bytearray()
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(await reader.read(READ_CHUNK))
            elif isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                headers = [(name.decode(), value.decode()) for name, value in head.headers]
                return httpx.Response(head.status_code, headers=headers, content=bytes(body))
            elif isinstance(event, h11.ConnectionClosed):
                raise EOFError("closed before the answer ended")
    finally:
        writer.close()
