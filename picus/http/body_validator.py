"""Connexion's JSON body validator, made strict, bounded and able to read chunked bodies.

Connexion lets an app replace a validator through `validator_map`; this one keeps
Connexion's flow (schema validation, problem answers) and changes how the body is read:
- the size limit holds before the body is read: a declared Content-Length over it, or a
  stream that grows past it (a chunked body has no length to declare), is refused with
  413 without buffering the rest;
- a chunked body is read (Connexion takes a request without Content-Length as bodiless);
- the JSON is parsed strictly and exactly (see picus.documents) instead of json.loads;
- the parsed Document is left in the request's scope, so the handler stores exactly
  what was validated, as the client's own text.
"""

from collections.abc import AsyncIterator
from functools import cached_property
from typing import Any, ClassVar

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import JSONRequestBodyValidator
from jsonschema import Draft4Validator
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Message, Receive, Scope

from picus.documents import Document, DocumentError, parse_document
from picus.http.problems import BadRequest, ContentTooLarge
from picus.library_internals import connexion_context

DOCUMENT_KEY = "picus.document"


class StrictJSONBodyValidator(JSONRequestBodyValidator):
    """Size-limited, strict JSON body parsing; limits are set by `body_validator_map`."""

    max_body_bytes: ClassVar[int] = 1024 * 1024
    max_depth: ClassVar[int] = 100

    @cached_property
    def _validator(self) -> Draft4Validator:
        """Built once: Connexion's own property builds a validator per request."""
        return Draft4RequestValidator(self._schema, format_checker=Draft4Validator.FORMAT_CHECKER)

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        """Read, parse and validate the body; hand the next app a receive that replays it."""
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_body_bytes:
                raise ContentTooLarge(self.max_body_bytes)
            if int(declared) == 0:
                raise BadRequest("The request body is empty; send a JSON value.")
        elif not chunked:
            raise BadRequest("The request has no body; send a JSON value.")
        messages: list[Message] = []
        document = await self._read(_bodies(receive, messages), scope)
        self._validate(document.value)
        return _replaying(messages, receive), scope

    async def _read(self, chunks: AsyncIterator[bytes], scope: Scope) -> Document:
        body = bytearray()
        async for chunk in chunks:
            body += chunk
            if len(body) > self.max_body_bytes:
                raise ContentTooLarge(self.max_body_bytes)
        try:
            document = parse_document(bytes(body), self.max_depth, self.max_body_bytes)
        except DocumentError as exc:
            raise BadRequest(str(exc)) from None
        connexion_context(scope)[DOCUMENT_KEY] = document
        return document

    def _validate(self, body: Any) -> None:
        # Connexion's check that a non-nullable body is not JSON null, then the schema.
        if body is not None or not self._nullable:
            super()._validate(body)


async def _bodies(receive: Receive, messages: list[Message]) -> AsyncIterator[bytes]:
    """The body's bytes as they arrive, keeping each message to replay."""
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] != "http.request":  # the client went away mid-body
            raise BadRequest("The request body ended early.")
        messages.append(message)
        more_body = message.get("more_body", False)
        yield message.get("body", b"")


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = iter(messages)

    async def replay() -> Message:
        return next(pending, None) or await receive()

    return replay


def request_document(request: Request) -> Document:
    """The body exactly as the strict validator parsed it (JSON null included)."""
    document: Document = connexion_context(request.scope)[DOCUMENT_KEY]
    return document


def body_validator_map(max_body_bytes: int, max_depth: int) -> dict[str, Any]:
    """A Connexion `validator_map` entry using StrictJSONBodyValidator with these limits."""
    validator = type(
        "ConfiguredStrictJSONBodyValidator",
        (StrictJSONBodyValidator,),
        {"max_body_bytes": max_body_bytes, "max_depth": max_depth},
    )
    return {"body": MediaTypeDict({"*/*json": validator})}
