"""X-Request-ID: taken from the request when well-formed, generated otherwise, echoed back.

The id is bound to the request's context (so every log line of the request carries it)
and added to every problem+json body as the extension member `request_id`. Rewriting
the body here, outside Connexion's ExceptionMiddleware, covers every problem whatever
produced it (Connexion's validation, Starlette's 404/405, Picus's own error handlers),
where custom error handlers would have to replace each of Connexion's defaults.
"""

import json
import re
import uuid
from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
PROBLEM_MEMBER = "request_id"
PROBLEM_MEDIA_TYPE = "application/problem+json"

# Bounded and safe to put in a header or a log line: UUIDs, Nginx's $request_id, base64.
WELL_FORMED = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
# A problem document is a few hundred bytes; anything larger is passed through untouched.
MAX_PROBLEM_BYTES = 64 * 1024

_HEADER_KEY = HEADER.lower().encode("latin-1")

current_request_id: ContextVar[str | None] = ContextVar("picus_request_id", default=None)


def request_id_from(scope: Scope) -> str:
    """The client's id if there is exactly one and it is well-formed; a new one otherwise."""
    values = [value for key, value in scope.get("headers", []) if key.lower() == _HEADER_KEY]
    if len(values) == 1:
        text: str = values[0].decode("latin-1")
        if WELL_FORMED.fullmatch(text):
            return text
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """ASGI middleware (outermost of Picus's own): assigns, binds and echoes the request id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        token = current_request_id.set(request_id)
        try:
            await self.app(scope, receive, _ProblemStamper(send, request_id))
        finally:
            current_request_id.reset(token)


class _ProblemStamper:
    """The `send` of one request: sets the header, adds the id to a problem body."""

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self._request_id = request_id
        self._held_start: Message | None = None
        self._held_body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers[HEADER] = self._request_id
            if _is_problem(headers):
                self._held_start = message
                return
        elif message["type"] == "http.response.body" and self._held_start is not None:
            self._held_body += message.get("body", b"")
            if message.get("more_body", False) and len(self._held_body) <= MAX_PROBLEM_BYTES:
                return
            await self._release(message.get("more_body", False))
            return
        await self._send(message)

    async def _release(self, more_body: bool) -> None:
        start, body = self._held_start, bytes(self._held_body)
        assert start is not None, "only called while a response start is held"
        self._held_start, self._held_body = None, bytearray()
        if not more_body:
            stamped = _with_request_id(body, self._request_id)
            if stamped is not body:
                MutableHeaders(scope=start)["Content-Length"] = str(len(stamped))
                body = stamped
        await self._send(start)
        await self._send({"type": "http.response.body", "body": body, "more_body": more_body})


def _is_problem(headers: MutableHeaders) -> bool:
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == PROBLEM_MEDIA_TYPE


def _with_request_id(body: bytes, request_id: str) -> bytes:
    """The problem document with `request_id` added; any other body as it was."""
    try:
        document = json.loads(body)
    except ValueError:
        return body  # e.g. the empty body of a HEAD answer
    if not isinstance(document, dict) or PROBLEM_MEMBER in document:
        return body
    document[PROBLEM_MEMBER] = request_id
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
