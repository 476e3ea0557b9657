"""uvicorn's httptools protocol, hardened for clients that talk to the app port directly.

Pass it to uvicorn as `http="picus.http.server_protocol:PicusHttpToolsProtocol"` (or the class).
Compared with uvicorn's own `HttpToolsProtocol` it

- bounds a request head: more than `MAX_HEAD_BYTES` of request line and headers (and
  trailers, counted with them) is answered 431, a request target over `MAX_URL_BYTES` 414,
  both before the rest is read or buffered;
- times out heads: a connection must deliver a complete request head within `HEAD_TIMEOUT_S`
  of being opened, and within that or uvicorn's `timeout_keep_alive` (the longer) of its
  previous response; a started head is then answered 408, an idle connection just closed;
- answers the errors uvicorn produces itself (400 for unparsable requests, 500 when the app
  fails before answering, 503 over `limit_concurrency`) as RFC 9457 `application/problem+json`
  with a fixed detail that never echoes the request.

uvicorn internals this relies on (uvicorn 0.54, httptools 0.9); the test
`test_uvicorn_internals_still_exist` in tests/edge/test_server_protocol.py fails if one goes:

- `HttpToolsProtocol.__init__(config, server_state, app_state, _loop)` and the methods
  overridden here: `connection_made`, `connection_lost`, `data_received`, `send_400_response`,
  `on_message_begin`, `on_url`, `on_header`, `on_headers_complete`, `on_body`,
  `on_message_complete`, `on_response_complete`, `_start_asgi_task(cycle, app)`;
- methods called: `_unset_keepalive_if_required`, `_should_upgrade`,
  `handle_websocket_upgrade`, `_unsupported_upgrade_warning` (the upgrade branch of
  `data_received`, copied);
- attributes read: `parser`, `transport`, `cycle`, `loop`, `logger`, `timeout_keep_alive`,
  `server_state.default_headers`;
- `RequestResponseCycle.send`, `.response_started`, `.response_complete`, and
  `.send_500_response()`, which `run_asgi` awaits and this module replaces per cycle;
- `uvicorn.protocols.http.flow_control.service_unavailable`, the app uvicorn substitutes
  when `limit_concurrency` is exceeded;
- httptools: an exception raised in a parser callback stops `feed_data`, which then raises
  `HttpParserCallbackError` (an `HttpParserError`); it calls the protocol's `on_chunk_header`
  and `on_chunk_complete` when they exist (uvicorn's has none).
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any, NoReturn

import httptools
from uvicorn._types import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

# The app's lifespan state may hold a callable under this key: called once as the server
# starts a graceful stop, before it waits for open requests (an event stream ends then).
DRAINING_KEY = "picus.draining"

MAX_HEAD_BYTES = 16 * 1024
MAX_URL_BYTES = 8 * 1024
HEAD_TIMEOUT_S = 10.0
# After an error answer, how long to drop what the client still sends before closing.
LINGER_S = 1.0

_PROBLEM_JSON = b"application/problem+json"
_TITLES = {
    400: "Bad Request",
    408: "Request Timeout",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_BAD_REQUEST = "The request is not well-formed HTTP/1.1."
# More specific details by parser error; all fixed text, never a piece of the request.
_PARSE_ERROR_DETAILS: tuple[tuple[type[Exception], str], ...] = (
    (
        httptools.HttpParserInvalidMethodError,
        "The request line does not start with a method this server knows.",
    ),
    (httptools.HttpParserInvalidURLError, "The request target is not a valid URL."),
)


def _problem_body(status: int, detail: str) -> bytes:
    """An RFC 9457 problem document with the members Picus's Problem schema requires."""
    problem = {"type": "about:blank", "title": _TITLES[status], "status": status, "detail": detail}
    return json.dumps(problem).encode()


async def _send_problem(send: ASGISendCallable, status: int, detail: str) -> None:
    """Answer a problem through ASGI `send`, closing the connection as uvicorn's would."""
    body = _problem_body(status, detail)
    headers = [
        (b"content-type", _PROBLEM_JSON),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _service_unavailable(
    _scope: Scope, _receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    """Stands in for uvicorn's text/plain `service_unavailable`."""
    await _send_problem(send, 503, "The server is at its concurrency limit; try again later.")


class _Refused(Exception):
    """Raised in a parser callback to stop httptools; the answer waits in `_refusal`."""


class PicusHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded heads, head timeouts and problem+json errors.

    The limits are class attributes so that a subclass (a test) can lower them.
    """

    max_head_bytes = MAX_HEAD_BYTES
    max_url_bytes = MAX_URL_BYTES
    head_timeout_s = HEAD_TIMEOUT_S
    linger_s = LINGER_S

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # The one pending deadline: the head timeout, or the end of a lingering close.
        self._deadline: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str] | None = None
        self._discarding = False  # an error was answered: drop input, never parse it
        self._section_ended_in_read = False
        self._expect_head()

    def _expect_head(self) -> None:
        """The next bytes belong to a new request head: start counting it afresh."""
        self._awaiting_head = True  # until on_headers_complete
        self._head_begun = False  # some of it arrived (a timeout is then answered 408)
        self._maybe_trailers = False  # after a chunk header: its data or the trailers follow
        self._head_raw = 0  # bytes of whole reads that fell inside this head or its trailers
        self._head_size = 0  # request target, header and trailer lines the parser handed over
        self._url_size = 0

    # Connection lifetime

    def connection_made(  # type: ignore[override]  # as uvicorn's
        self, transport: asyncio.Transport
    ) -> None:
        super().connection_made(transport)
        # uvicorn arms no timer for a new connection: one that never speaks stays forever.
        self._arm_deadline(self.head_timeout_s)

    def shutdown(self) -> None:
        """The server starts a graceful stop: tell the app once, then stop as uvicorn does."""
        draining = self.app_state.pop(DRAINING_KEY, None)
        if callable(draining):
            draining()
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """uvicorn's `data_received`, plus the head byte count and problem+json errors."""
        if self._discarding:
            return
        self._unset_keepalive_if_required()
        whole_read_in_header_section = self._awaiting_head or self._maybe_trailers
        self._section_ended_in_read = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as exc:
            self._answer_parse_error(exc)
            return
        if self._awaiting_head or self._maybe_trailers:
            # httptools keeps an unfinished header (or trailer) line to itself and hands it
            # over only when it ends, so one endless line is caught here, by the bytes read.
            # A read in which a section ended is not counted, since where the next one starts
            # in it is unknown (so the parser may hold up to one read more than the limit).
            if whole_read_in_header_section and not self._section_ended_in_read:
                self._head_raw += len(data)
            if self._head_raw > self.max_head_bytes:
                self._answer_and_close(431, self._head_detail())

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # uvicorn's keep-alive timer stops at the first byte, so a head (or the rest of a
        # body the app did not read) trickled after a response would hold the connection
        # forever. Not armed while a pipelined request is still being answered.
        if not self.transport.is_closing() and self.cycle.response_complete:
            self._arm_deadline(max(self.head_timeout_s, self.timeout_keep_alive))

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        # uvicorn's own 500 and 503 answers are text/plain; these replace them.
        if app is service_unavailable:
            app = _service_unavailable
        cycle.send_500_response = functools.partial(  # type: ignore[method-assign]
            _send_problem, cycle.send, 500, "The server failed to answer this request."
        )
        super()._start_asgi_task(cycle, app)

    # Parser callbacks

    def on_message_begin(self) -> None:
        self._head_begun = True
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        # httptools hands the target over piece by piece, as it is read.
        self._url_size += len(url)
        if self._url_size > self.max_url_bytes:
            self._refuse(414, f"The request target is longer than {self.max_url_bytes} bytes.")
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)  # "name: value\r\n"
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_head = self._head_begun = False
        self._section_ended_in_read = True
        self._cancel_deadline()  # the head is in; how long the app takes is not limited here
        super().on_headers_complete()

    # A chunk header is followed by the chunk's data, or for the last (empty) chunk by the
    # trailer section, which httptools buffers like headers: bytes read after a chunk header
    # and before any data are trailer bytes, and count with the head's.

    def on_chunk_header(self) -> None:
        self._maybe_trailers = True

    def on_body(self, body: bytes) -> None:
        self._maybe_trailers = False
        self._section_ended_in_read = True
        super().on_body(body)

    def on_chunk_complete(self) -> None:
        self._maybe_trailers = False
        self._section_ended_in_read = True

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._expect_head()

    # Errors uvicorn would answer itself

    def send_400_response(self, msg: str) -> None:
        """uvicorn's text/plain 400 (its `msg` is dropped); data_received no longer calls it."""
        self._answer_and_close(400, _BAD_REQUEST)

    def _answer_parse_error(self, exc: httptools.HttpParserError) -> None:
        if self._refusal is not None:
            status, detail = self._refusal
        else:
            status = 400
            detail = next((d for t, d in _PARSE_ERROR_DETAILS if isinstance(exc, t)), _BAD_REQUEST)
        self._answer_and_close(status, detail)

    def _count_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self.max_head_bytes:
            self._refuse(431, self._head_detail())

    def _head_detail(self) -> str:
        return f"The request line and header fields are longer than {self.max_head_bytes} bytes."

    def _refuse(self, status: int, detail: str) -> NoReturn:
        """Stop the parser mid-head; data_received then answers `status`."""
        self._refusal = (status, detail)
        raise _Refused

    def _head_timeout(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._awaiting_head and self._head_begun:
            detail = f"The request head did not arrive within {self.head_timeout_s:g} seconds."
            self._answer_and_close(408, detail)
        else:
            self.transport.close()

    def _answer_and_close(self, status: int, detail: str) -> None:
        """Answer a problem ourselves and close the connection, reading nothing more."""
        self.logger.warning("HTTP request refused: %d %s. %s", status, _TITLES[status], detail)
        in_flight = self.cycle is not None and not self.cycle.response_complete
        if not (in_flight and self.cycle.response_started):  # never inside the app's answer
            self.transport.write(self._problem_response(status, detail))
        self._discarding = True
        self._cancel_deadline()
        self._unset_keepalive_if_required()
        if in_flight or not self.transport.can_write_eof():
            self.transport.close()  # as uvicorn does; the app's task sees the disconnect
            return
        # Lingering close: send FIN after the answer, then drop what the client still sends
        # for a moment. Closing with unread input makes the kernel send RST, which can
        # destroy the answer before the client has read it.
        self.transport.write_eof()
        self._deadline = self.loop.call_later(self.linger_s, self.transport.close)

    def _problem_response(self, status: int, detail: str) -> bytes:
        body = _problem_body(status, detail)
        lines = [b"HTTP/1.1 %d %s" % (status, _TITLES[status].encode())]
        lines += [name + b": " + value for name, value in self.server_state.default_headers]
        lines += [
            b"content-type: " + _PROBLEM_JSON,
            b"content-length: %d" % len(body),
            b"connection: close",
        ]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body

    def _arm_deadline(self, delay: float) -> None:
        self._cancel_deadline()
        self._deadline = self.loop.call_later(delay, self._head_timeout)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
