"""Picus: a spec-first HTTP service that stores JSON documents."""

import warnings
from importlib.metadata import PackageNotFoundError, version

# Connexion imports Starlette's test client at import time, also in production, and
# Starlette then warns about the test client's HTTP library: noise for an operator.
warnings.filterwarnings(
    "ignore",
    message=r"Using `httpx` with `starlette\.testclient` is deprecated",
    category=UserWarning,
)

try:
    __version__ = version("picus")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0"
