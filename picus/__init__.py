"""Picus: a spec-first HTTP service that stores JSON documents."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("picus")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0"
