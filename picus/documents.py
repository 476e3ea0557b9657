"""Strict parsing of stored documents: standard JSON only, bounded in size and depth.

Python's json module alone would accept NaN and Infinity (which PostgreSQL refuses),
lone surrogates (which cannot be encoded as UTF-8) and nesting deep enough to raise
RecursionError. Each of those is a client error here, reported as a DocumentError.
"""

import json
import math
from typing import Any


class DocumentError(ValueError):
    """The bytes are not a document Picus accepts; the message says why."""


def _reject_constant(name: str) -> Any:
    raise DocumentError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DocumentError(f"the number {text[:40]} is out of range")
    return value


def parse_document(raw: bytes, max_depth: int) -> object:
    """Parse UTF-8 JSON bytes into a Python value, or raise DocumentError."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"the body is not valid UTF-8 ({exc.reason})") from None
    if not text.strip():
        raise DocumentError("the body is empty; send a JSON value")
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise DocumentError(f"the document is nested more than {max_depth} levels") from None
    except DocumentError:
        raise
    except ValueError as exc:  # JSONDecodeError, or an integer with too many digits
        raise DocumentError(f"the body is not valid JSON: {exc}") from None
    _check_structure(document, max_depth)
    return document


def _check_structure(document: object, max_depth: int) -> None:
    """Walk the value without recursion: enforce the depth limit, refuse lone surrogates."""
    stack: list[tuple[object, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_string(value)
        elif isinstance(value, dict | list):
            depth += 1
            if depth > max_depth:
                raise DocumentError(f"the document is nested more than {max_depth} levels")
            if isinstance(value, dict):
                stack.extend((key, depth) for key in value)
                stack.extend((item, depth) for item in value.values())
            else:
                stack.extend((item, depth) for item in value)


def _check_string(value: str) -> None:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise DocumentError("a string holds a lone UTF-16 surrogate") from None
