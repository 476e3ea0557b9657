"""1,000 open change-feed streams on one worker: what they cost beside the gets.

Issue 12 promises that an open `GET /picus/changes` event stream costs memory and nothing
else: a waiting stream holds no database connection (each worker has one LISTEN
connection) and no CPU, and the hub wakes every stream when a change commits. A separate
`picus serve --workers 1` (so every stream lands on the same worker) is measured without
streams (RSS, idle CPU, get-by-id rate with wrk as in the get scenario), then with
STREAMS streams open on plain asyncio sockets in this process (each checked for 200 and
`text/event-stream`, read and discarded so they are live readers): RSS, the PostgreSQL
connections the worker holds, idle CPU, how long a change takes to reach every stream,
and the get rate again; then RSS once they are closed.
"""

import asyncio
import contextlib
import resource
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench import load
from bench.documents import document
from bench.memory import MIB
from bench.scenarios import GET
from devtools.postgres import Database
from devtools.processes import (
    open_files_limit,
    process_tree,
    rss_bytes,
    tcp_ports,
    tree_cpu_seconds,
)
from devtools.servers import LiveServer
from picus.config import Settings

STREAMS = 1_000
# The bench's own descriptors beside the streams (wrk runs in its own process).
SPARE_FILES = 64
# Seconds over which the idle CPU of the worker is measured, with and without streams
# (the kernel counts in 10 ms ticks: 2 ms/s is one tick; a keep-alive round, every
# PICUS_CHANGES_KEEPALIVE = 15 s by default, may or may not fall inside).
IDLE_SECONDS = 5.0
# Changes written one by one; each must reach every stream.
WRITES = 3
DELIVERY_WAIT_SECONDS = 5.0
OPEN_TIMEOUT_SECONDS = 10.0
# Streams opened at once: uvicorn's listen backlog (2048) is never the limit measured.
OPENING_AT_ONCE = 100
SETTLE_SECONDS = 1.0
READ_CHUNK = 65536
# Every event starts a line `id: <seq>`, after a chunk header's CRLF or an event's blank line.
EVENT_MARKER = b"\nid: "
LATEST_HEADER = "Picus-Changes-Latest"
EVENT_STREAM = "text/event-stream"


@dataclass
class Stream:
    """One open event stream: its socket and when each event arrived."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    arrivals: list[float] = field(default_factory=list)
    ended: bool = False
    task: asyncio.Task[None] | None = None

    async def consume(self) -> None:
        """Read until the server ends the stream, noting each event's arrival time."""
        tail = b""
        while chunk := await self.reader.read(READ_CHUNK):
            data = tail + chunk
            now = time.monotonic()
            self.arrivals.extend(now for _ in range(data.count(EVENT_MARKER)))
            tail = data[-(len(EVENT_MARKER) - 1) :]  # a marker cut in two by the read
        self.ended = True


def raise_file_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (the server started after
    inherits it); return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def file_limit_problem(server_pid: int) -> str | None:
    """Why STREAMS streams cannot be opened here (a descriptor limit too low), or None."""
    needed = STREAMS + SPARE_FILES + GET.connections
    mine = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    mine = -1 if mine == resource.RLIM_INFINITY else mine
    theirs = open_files_limit(server_pid)
    if mine != -1 and mine < needed:
        return f"the bench's open-files limit is {mine}, {needed} needed (ulimit -n)"
    if theirs != -1 and theirs < needed:
        return f"the server's open-files limit is {theirs}, {needed} needed (ulimit -n)"
    return None


def postgres_connections(db: Database, root: int) -> int:
    """Connections to PostgreSQL named `picus` whose client end is a socket of `root`'s tree.

    Matched by port, so the two-worker server and the runner's own connections, idle
    beside, are not counted.
    """
    ports = tcp_ports(process_tree(root))
    with db.engine().connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT client_port FROM pg_stat_activity WHERE application_name = 'picus'"
        ).all()
    return sum(1 for (port,) in rows if port in ports)


def _pool_size(server: LiveServer) -> int:
    default = Settings.model_fields["db_pool_size"].default
    return int(server.env.get("PICUS_DB_POOL_SIZE", default))


class StreamsTest:
    """The measurement on one running one-worker server; `run()` returns the figures."""

    def __init__(
        self,
        server: LiveServer,
        db: Database,
        ids: tuple[int, int],
        warmup: float,
        seconds: float,
        timeout: float,
    ) -> None:
        self.server = server
        self.db = db
        self.ids = [str(ids[0]), str(ids[1])]
        self.warmup = warmup
        self.seconds = seconds
        self.timeout = timeout
        self.streams: list[Stream] = []
        self.refused: list[str] = []

    def run(self) -> dict[str, Any]:
        """Every figure, in the order the report shows them."""
        problem = file_limit_problem(self.server.pid)
        if problem is not None:
            limit = _pool_size(self.server) + 1
            return {"streams asked": STREAMS, "PG connection limit": limit, "not measured": problem}
        return asyncio.run(self._measure())

    async def _measure(self) -> dict[str, Any]:
        async with asyncio.timeout(self.timeout):
            without = await self._get_rate()
            connections_without = self._connections()
            cpu_without = await self._idle_cpu()
            before = self._rss()  # after the warm-up: what the streams add, not the gets
            try:
                await self._open()
                await asyncio.sleep(SETTLE_SECONDS)
                with_streams = self._rss()
                connections = self._connections()
                cpu = await self._idle_cpu()
                delay, missed = await self._delivery()
                rate = await self._get_rate()
                alive = sum(1 for stream in self.streams if not stream.ended)
            finally:
                await self._close()
            await asyncio.sleep(SETTLE_SECONDS)
            after = self._rss()
        opened = len(self.streams)
        return {
            "streams asked": STREAMS,
            "streams open": opened,
            "streams refused": len(self.refused),
            **({"first refusal": self.refused[0]} if self.refused else {}),
            "RSS before MiB": round(before / MIB, 1),
            "RSS with streams MiB": round(with_streams / MIB, 1),
            "RSS after MiB": round(after / MIB, 1),
            "KiB per stream": round((with_streams - before) / max(1, opened) / 1024, 1),
            "PG connections without streams": connections_without,
            "PG connections with streams": connections,
            "PG connection limit": _pool_size(self.server) + 1,
            "idle CPU ms/s without streams": cpu_without,
            "idle CPU ms/s with streams": cpu,
            "get req/s without streams": round(without.per_second),
            "get req/s with streams": round(rate.per_second),
            "get ratio with/without": round(rate.per_second / without.per_second, 3)
            if without.per_second
            else None,
            "get p99 ms without/with streams": f"{without.p99_ms:.1f}/{rate.p99_ms:.1f}",
            "get failures without/with streams": f"{without.failed}/{rate.failed}",
            "max delivery ms": delay,
            "streams missing a change": missed,
            "streams still open after the gets": alive,
        }

    def _rss(self) -> int:
        return rss_bytes(process_tree(self.server.pid))

    def _connections(self) -> int:
        return postgres_connections(self.db, self.server.pid)

    async def _get_rate(self) -> load.Rate:
        """The get scenario's wrk (script, connections), warm-up then measured; wrk runs in
        a thread so the streams keep being read meanwhile."""
        url, script, conns = self.server.url, GET.wrk_script, GET.connections
        await asyncio.to_thread(load.wrk, url, script, self.ids, conns, self.warmup)
        return await asyncio.to_thread(load.wrk, url, script, self.ids, conns, self.seconds)

    async def _idle_cpu(self) -> float:
        """CPU milliseconds per second the server's tree spends over IDLE_SECONDS unloaded."""
        started = tree_cpu_seconds(self.server.pid)
        await asyncio.sleep(IDLE_SECONDS)
        return round(1000 * (tree_cpu_seconds(self.server.pid) - started) / IDLE_SECONDS, 2)

    async def _open(self) -> None:
        """STREAMS streams from the newest change on (so none replays the run's history)."""
        async with httpx.AsyncClient(base_url=self.server.url) as client:
            answer = await client.get("/picus/changes", params={"limit": 1})
            answer.raise_for_status()
            since = int(answer.headers[LATEST_HEADER])
        gate = asyncio.Semaphore(OPENING_AT_ONCE)
        await asyncio.gather(*(self._open_one(since, gate) for _ in range(STREAMS)))

    async def _open_one(self, since: int, gate: asyncio.Semaphore) -> None:
        """One stream; its answer's head must say 200 and text/event-stream."""
        port = int(self.server.port)
        request = (
            f"GET /picus/changes?since={since} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
        async with gate:
            try:
                async with asyncio.timeout(OPEN_TIMEOUT_SECONDS):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except (OSError, TimeoutError) as exc:
                self.refused.append(f"connect: {type(exc).__name__} {exc}")
                return
            try:
                async with asyncio.timeout(OPEN_TIMEOUT_SECONDS):
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                self.refused.append(f"answer: {type(exc).__name__} {exc}")
                writer.close()
                return
        status, *headers = head.decode("latin-1").lower().split("\r\n")
        event_stream = any(h.startswith(f"content-type: {EVENT_STREAM}") for h in headers)
        if not status.startswith("http/1.1 200") or not event_stream:
            self.refused.append(status)
            writer.close()
            return
        stream = Stream(reader, writer)
        stream.task = asyncio.create_task(stream.consume())
        self.streams.append(stream)

    async def _delivery(self) -> tuple[float | None, int]:
        """The slowest arrival of a change at a stream, in ms from sending its write (so a
        bound that includes the write itself), and how many times a stream missed one
        (each counted as the whole wait)."""
        delays: list[float] = []
        missed = 0
        async with httpx.AsyncClient(base_url=self.server.url) as client:
            for n in range(WRITES):
                seen = [len(stream.arrivals) for stream in self.streams]
                sent = time.monotonic()
                answer = await client.post("/picus/put", json=document(n))
                answer.raise_for_status()
                deadline = sent + DELIVERY_WAIT_SECONDS
                while time.monotonic() < deadline and any(
                    len(s.arrivals) <= count for s, count in zip(self.streams, seen, strict=True)
                ):
                    await asyncio.sleep(0.01)
                for stream, count in zip(self.streams, seen, strict=True):
                    if len(stream.arrivals) > count:
                        delays.append(stream.arrivals[count] - sent)
                    else:
                        missed += 1
                        delays.append(DELIVERY_WAIT_SECONDS)
        return (round(1000 * max(delays), 1) if delays else None), missed

    async def _close(self) -> None:
        for stream in self.streams:
            stream.writer.close()
            if stream.task is not None:
                stream.task.cancel()
        tasks = [s.task for s in self.streams if s.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
