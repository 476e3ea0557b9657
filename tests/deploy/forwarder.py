"""A TCP forwarder on a loopback port: a database that can go away and come back.

PgBouncer is pointed at the forwarder's port; `stop()` closes the listener and every
forwarded connection (the database is gone), `start()` listens again on the same port
(it is back). The session's PostgreSQL itself keeps running for every other test.
"""

import contextlib
import selectors
import socket
import threading
from typing import Self

from devtools.processes import Started
from devtools.servers import free_port


class Forwarder(Started):
    """127.0.0.1:`port` -> 127.0.0.1:`target_port`, in one background thread."""

    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> Self:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        listener.setblocking(False)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every forwarded connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self, listener: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ, None)
        pairs: dict[socket.socket, socket.socket] = {}
        try:
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.05):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is listener:
                        self._accept(listener, selector, pairs)
                    else:
                        self._pump(sock, selector, pairs)
        finally:
            for sock in [listener, *pairs]:
                with contextlib.suppress(OSError):
                    sock.close()
            selector.close()

    def _accept(
        self,
        listener: socket.socket,
        selector: selectors.BaseSelector,
        pairs: dict[socket.socket, socket.socket],
    ) -> None:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
        except OSError:
            client.close()
            return
        for one, other in ((client, upstream), (upstream, client)):
            one.setblocking(True)
            pairs[one] = other
            selector.register(one, selectors.EVENT_READ, None)

    @staticmethod
    def _pump(
        sock: socket.socket,
        selector: selectors.BaseSelector,
        pairs: dict[socket.socket, socket.socket],
    ) -> None:
        other = pairs[sock]
        try:
            data = sock.recv(65536)
            if data:
                other.sendall(data)
                return
        except OSError:
            pass
        for one in (sock, other):
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(one)
            pairs.pop(one, None)
            with contextlib.suppress(OSError):
                one.close()
