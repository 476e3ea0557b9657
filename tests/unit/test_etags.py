"""picus.http.etags on its own: versions as tags, and the conditional headers."""

import pytest

from picus.http.etags import etag, if_match_versions, none_match


def test_a_version_is_a_strong_tag() -> None:
    assert etag(7) == '"7"'


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        (None, None),
        ("*", None),
        ('"3"', {3}),
        ('"3", "5"', {3, 5}),
        ('W/"3"', set()),  # weak tags never match for If-Match
        ('"x"', set()),
        ('"1234567890123456789"', set()),  # longer than a version can be
    ],
)
def test_if_match_names_the_versions_a_write_may_replace(
    header: str | None, versions: set[int] | None
) -> None:
    assert if_match_versions(header) == (None if versions is None else frozenset(versions))


def test_if_none_match_compares_weakly() -> None:
    assert none_match('W/"4"', 4)
    assert none_match('"1", "4"', 4)
    assert none_match("*", 4)
    assert not none_match('"5"', 4)
    assert not none_match(None, 4)
