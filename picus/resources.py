"""Locate the files that ship beside the code: the OpenAPI specs and the Alembic scripts.

They live at the repository root (`openapi/`, `migrations/`) so the layout is easy to see;
a built wheel carries them inside the package (see `force-include` in pyproject.toml).
"""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the directory `name`, from the installed package or else the source tree."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"picus: cannot find the {name!r} directory beside the package")
