"""Compare JSON texts as JSON values: numbers as exact decimals, booleans apart from numbers.

`1e308` and `1000...000` (309 digits) are the same JSON number; `true` and `1` are not.
"""

import json
from decimal import Decimal


def json_value(text: str | bytes) -> object:
    """Parse JSON text into a form whose == is JSON-value equality."""
    return _tag(json.loads(text, parse_float=Decimal, parse_int=Decimal))


def same_json_value(text: str | bytes, document: object) -> bool:
    """True when `text` denotes the same JSON value as the Python `document`."""
    return json_value(text) == json_value(json.dumps(document))


def _tag(value: object) -> object:
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, Decimal):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", [_tag(v) for v in value])
    assert isinstance(value, dict)
    return ("object", {k: _tag(v) for k, v in value.items()})
