"""Strict parsing of stored documents: standard JSON only, bounded in size and depth.

Python's json module alone would accept NaN and Infinity (which PostgreSQL refuses),
lone surrogates (which cannot be encoded as UTF-8) and nesting deep enough to raise
RecursionError, and would round every decimal number through a float. Here each of the
first three is a client error (a DocumentError), and numbers are parsed as Decimal, so
nothing is rounded: the stored text is the client's own.

A number in exponent form is stored by PostgreSQL written out in full (`1e-400` as 402
characters), so the written-out numbers of one document must fit in the body limit:
a few bytes of exponent cannot make megabytes of stored document.
"""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


class DocumentError(ValueError):
    """The bytes are not a document Picus accepts; the message says why."""


@dataclass(frozen=True, slots=True)
class Document:
    """A request body that passed every check: its JSON text and its value."""

    text: str
    """The client's JSON text (outer white space removed): what storage keeps."""
    value: Any
    """The parsed value; decimal numbers are Decimal, never float."""

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON: equal JSON values, equal fingerprints."""
        return hashlib.sha256(canonical_json(self.value).encode()).hexdigest()


def _reject_constant(name: str) -> Any:
    raise DocumentError(f"{name} is not valid JSON")


def parse_document(raw: bytes, max_depth: int, max_bytes: int) -> Document:
    """Parse UTF-8 JSON bytes into a Document, or raise DocumentError."""
    try:
        text = raw.decode("utf-8").strip(" \t\r\n")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"the body is not valid UTF-8 ({exc.reason})") from None
    if not text:
        raise DocumentError("the body is empty; send a JSON value")
    budget = _NumberBudget(max_bytes - len(raw))
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=budget.decimal)
    except RecursionError:
        raise DocumentError(f"the document is nested more than {max_depth} levels") from None
    except DocumentError:
        raise
    except ValueError as exc:  # JSONDecodeError, or an integer with too many digits
        raise DocumentError(f"the body is not valid JSON: {exc}") from None
    _check_structure(value, max_depth)
    return Document(text, value)


class _NumberBudget:
    """Parses decimal numbers exactly and charges what writing them out in full adds."""

    def __init__(self, spare_bytes: int) -> None:
        self.spare_bytes = spare_bytes

    def decimal(self, text: str) -> Decimal:
        try:
            number = Decimal(text)
        except InvalidOperation:  # json only hands over well-formed numbers; be safe
            raise DocumentError(f"the number {text[:40]} is not valid") from None
        if "e" in text or "E" in text:
            exponent = number.as_tuple().exponent
            assert isinstance(exponent, int), "a parsed JSON number is finite"
            digits = len(number.as_tuple().digits)
            written_out = max(digits, digits + exponent, -exponent + 1) + 2
            self.spare_bytes -= max(0, written_out - len(text))
            if self.spare_bytes < 0:
                raise DocumentError(
                    f"the number {text[:40]} is too large or too small: written out in "
                    "full, the document's numbers would pass the body size limit"
                )
        return number


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


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: `patch` applied to `target` (neither is changed).

    Objects merge member by member, recursively; a `null` member removes the member; any
    patch that is not an object replaces the target; an object patch on a target that is
    not an object starts from `{}`.
    """
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


def json_text(value: Any) -> str:
    """A parsed document written back as JSON text, every number exactly as parsed."""
    return _write(value, sort_keys=False)


def canonical_json(value: Any) -> str:
    """One text per JSON value: keys sorted, no white space, numbers in one form (1.0 = 1)."""
    return _write(value, sort_keys=True)


def _write(value: Any, sort_keys: bool) -> str:
    """JSON text without white space (the standard library cannot write a Decimal exactly).

    Recursion is bounded: documents are at most `max_depth` levels deep.
    """
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        members = (f"{json.dumps(k, ensure_ascii=False)}:{_write(v, sort_keys)}" for k, v in items)
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_write(item, sort_keys) for item in value) + "]"
    if isinstance(value, Decimal):
        return _canonical_number(value) if sort_keys else _exact_number(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _exact_number(number: Decimal) -> str:
    """The number as JSON: `str(Decimal)` is exact, and only its `Infinity`/`NaN` are not
    JSON (never parsed here); an exponent is written `E+5`/`E-5`, which JSON allows."""
    return str(number)


def _canonical_number(number: Decimal) -> str:
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")
