"""Connexion's JSON body validator, made strict and bounded.

Connexion lets an app replace a validator through `validator_map`; this one keeps
Connexion's flow (schema validation, problem answers) and changes how the body is read:
- the size limit holds before the body is read: a declared Content-Length over it, or a
  stream that grows past it, is refused with 413 without buffering the rest;
- the JSON is parsed strictly (see picus.documents) instead of with a bare json.loads;
- the parsed value is left in the request's Connexion context, so the handler uses
  exactly what was validated (the injected `body` argument would turn the JSON string
  "null" into None).
"""

from collections.abc import AsyncGenerator
from typing import Any, ClassVar

from connexion.datastructures import MediaTypeDict
from connexion.validators import JSONRequestBodyValidator
from starlette.datastructures import Headers
from starlette.types import Scope

from picus.documents import DocumentError, parse_document
from picus.problems import BadRequest, ContentTooLarge

DOCUMENT_KEY = "picus.document"


class StrictJSONBodyValidator(JSONRequestBodyValidator):
    """Size-limited, strict JSON body parsing; limits are set by `body_validator_map`."""

    max_body_bytes: ClassVar[int] = 1024 * 1024
    max_depth: ClassVar[int] = 100

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise ContentTooLarge(self.max_body_bytes)
        chunks: list[bytes] = []
        size = 0
        async for chunk in stream:
            size += len(chunk)
            if size > self.max_body_bytes:
                raise ContentTooLarge(self.max_body_bytes)
            chunks.append(chunk)
        try:
            document = parse_document(b"".join(chunks), self.max_depth)
        except DocumentError as exc:
            raise BadRequest(str(exc)) from None
        extensions = scope.setdefault("extensions", {})
        extensions.setdefault("connexion_context", {})[DOCUMENT_KEY] = document
        return document


def body_validator_map(max_body_bytes: int, max_depth: int) -> dict[str, MediaTypeDict]:
    """A Connexion `validator_map` entry using StrictJSONBodyValidator with these limits."""
    validator = type(
        "ConfiguredStrictJSONBodyValidator",
        (StrictJSONBodyValidator,),
        {"max_body_bytes": max_body_bytes, "max_depth": max_depth},
    )
    return {"body": MediaTypeDict({"*/*json": validator})}
