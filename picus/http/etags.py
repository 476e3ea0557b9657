"""Entity tags: an item's ETag is its stored version, and the conditional headers naming it.

The version is a counter the database bumps in the same UPDATE that changes the document
(picus.storage.items), so a tag changes whenever the document does. This module is the only
place that turns a version into a tag or a tag back into a version (RFC 9110, section 8.8.3).
"""

import re

# An entity-tag: optional weak prefix, then a quoted opaque string (RFC 9110 `entity-tag`).
_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')
# Versions are BIGINT; longer digit strings are not tags Picus issued (and must not reach SQL).
_VERSION = re.compile(r"[0-9]{1,18}")


def etag(version: int) -> str:
    """The strong ETag of an item at `version`."""
    return f'"{version}"'


def if_match_versions(header: str | None) -> frozenset[int] | None:
    """The versions an If-Match header allows, or None when it sets no condition.

    A missing header or `*` sets none (a missing item is a 404 either way). Weak tags never
    match (If-Match uses the strong comparison), and tags Picus never issued match nothing,
    so a header naming no current version leaves an empty set: 412.
    """
    if header is None or header.strip() == "*":
        return None
    return frozenset(
        int(opaque)
        for weak, opaque in _ENTITY_TAG.findall(header)
        if not weak and _VERSION.fullmatch(opaque)
    )


def none_match(header: str | None, version: int) -> bool:
    """True when an If-None-Match header names the item at `version` (weak comparison)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    current = etag(version)
    return any(f'"{opaque}"' == current for _weak, opaque in _ENTITY_TAG.findall(header))
