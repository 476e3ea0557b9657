"""picus.documents on its own: what is a document, and JSON Merge Patch."""

from decimal import Decimal

import pytest

from picus.documents import DocumentError, canonical_json, json_text, merge_patch, parse_document

LIMIT = 1024 * 1024


def parse(text: str) -> object:
    return parse_document(text.encode(), max_depth=100, max_bytes=LIMIT).value


def test_decimal_numbers_are_parsed_exactly() -> None:
    assert parse("0.12345678901234567890123") == Decimal("0.12345678901234567890123")
    assert parse("[1e-400]") == [Decimal("1e-400")]
    assert parse("2") == 2


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("[NaN]", "NaN"),
        ("Infinity", "Infinity"),
        ('"\\ud800"', "surrogate"),
        ("[" * 101 + "]" * 101, "nested"),
        ("1e2000000", "too large or too small"),
        ("{", "not valid JSON"),
    ],
)
def test_what_is_not_a_document_says_why(text: str, says: str) -> None:
    with pytest.raises(DocumentError, match=says):
        parse(text)


def test_the_text_kept_is_the_clients_own() -> None:
    document = parse_document(b'  {"b": 1.50, "a": 1e2}\n', max_depth=100, max_bytes=LIMIT)
    assert document.text == '{"b": 1.50, "a": 1e2}'


def test_fingerprints_are_equal_for_equal_json_values() -> None:
    def fingerprint(text: str) -> str:
        return parse_document(text.encode(), max_depth=100, max_bytes=LIMIT).fingerprint()

    assert fingerprint('{"a": 1, "b": [1.0]}') == fingerprint('{"b": [1], "a": 1e0}')
    assert fingerprint("[1, 2]") != fingerprint("[2, 1]")
    assert canonical_json({"b": Decimal("1.50"), "a": None}) == '{"a":null,"b":1.5}'


def test_merge_patch_follows_rfc_7396() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "keep": [1]}
    patch = {"a": "z", "c": {"f": None}, "new": {"x": None, "y": 1}}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}, "keep": [1], "new": {"y": 1}}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}, "keep": [1]}  # not changed
    assert merge_patch([1], {"a": 1}) == {"a": 1}
    assert merge_patch({"a": 1}, "text") == "text"


def test_json_text_writes_numbers_exactly_and_keeps_member_order() -> None:
    value = parse('{"z": 0.10, "a": [1e-400, -0, "\\u00e9"]}')
    assert json_text(value) == '{"z":0.10,"a":[1E-400,0,"é"]}'
    assert parse(json_text(value)) == value
