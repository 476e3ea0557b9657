"""API keys: made by `picus keys new`, configured only as salted hashes, checked in constant time.

A key is 256 random bits, so one HMAC-SHA256 with a per-key salt is enough to keep the
configuration useless to a thief (a slow password hash would only slow every request).
A configuration entry reads `<scope>:hmac-sha256:<salt hex>:<digest hex>`.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Scope = Literal["read", "write"]
SCOPES: tuple[Scope, ...] = ("read", "write")
# What each key scope grants: a write key may also read.
GRANTS: dict[Scope, frozenset[Scope]] = {
    "read": frozenset({"read"}),
    "write": frozenset({"read", "write"}),
}
KEY_PREFIX = "picus_"
_ALGORITHM = "hmac-sha256"
_ENTRY = re.compile(
    rf"(?P<scope>read|write):{_ALGORITHM}:(?P<salt>[0-9a-f]{{32}}):(?P<digest>[0-9a-f]{{64}})"
)
# Entries in one string (PICUS_API_KEYS) are separated by commas and/or white space.
_SEPARATORS = re.compile(r"[\s,]+")


class KeyEntryError(ValueError):
    """A configured key entry is not in the form `picus keys new` prints."""


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One configured key: its scope and the salted hash of the key."""

    scope: Scope
    salt: bytes
    digest: bytes

    @property
    def principal(self) -> str:
        """A stable, non-secret name for the key (idempotency keys are kept per principal)."""
        return self.digest.hex()[:16]

    def line(self) -> str:
        """The configuration entry for this key."""
        return f"{self.scope}:{_ALGORITHM}:{self.salt.hex()}:{self.digest.hex()}"


def _digest(salt: bytes, key: str) -> bytes:
    return hmac.new(salt, key.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()


def new_key(scope: Scope) -> tuple[str, KeyEntry]:
    """A fresh key (to hand to a client once) and the entry that configures it."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    return key, KeyEntry(scope, salt, _digest(salt, key))


def parse_entry(text: str) -> KeyEntry:
    """Parse one configuration entry or raise KeyEntryError (which never echoes the text)."""
    match = _ENTRY.fullmatch(text.strip())
    if match is None:
        raise KeyEntryError(
            "an API key entry must look like "
            f"'write:{_ALGORITHM}:<32 hex>:<64 hex>' (print one with `picus keys new`)"
        )
    scope: Scope = "write" if match["scope"] == "write" else "read"
    return KeyEntry(scope, bytes.fromhex(match["salt"]), bytes.fromhex(match["digest"]))


def parse_entries(text: str) -> tuple[KeyEntry, ...]:
    """Entries separated by commas or white space (an environment variable)."""
    return tuple(parse_entry(part) for part in _SEPARATORS.split(text) if part)


def parse_key_file(text: str) -> tuple[KeyEntry, ...]:
    """Entries of a secret file: one a line (or comma-separated); `#` starts a comment."""
    entries: list[KeyEntry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            entries += parse_entries(raw.split("#", 1)[0])
        except KeyEntryError as exc:
            raise KeyEntryError(f"line {number}: {exc}") from None
    return tuple(entries)


class KeyRing:
    """The configured keys; finds the one a presented key matches, in constant time."""

    def __init__(self, entries: Iterable[KeyEntry]) -> None:
        self.entries = tuple(entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def match(self, key: str) -> KeyEntry | None:
        """The entry `key` belongs to, or None.

        Every entry is hashed and compared with hmac.compare_digest, with no early exit, so
        the time taken says nothing about how close a guess came or which entry matched.
        """
        found: KeyEntry | None = None
        for entry in self.entries:
            if hmac.compare_digest(_digest(entry.salt, key), entry.digest):
                found = entry
        return found
