"""The contract, read once per app: the YAML parsed, and what Picus's own parts need of it.

Connexion validates and resolves the spec itself (from the dict given to `add_api`); the
route guard, the metric route names and the API-key scopes need only a few facts per
operation, which are read here from the same dict, without a second validation.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SCOPE_EXTENSION = "x-picus-scope"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation as Picus's own parts see it."""

    operation_id: str
    method: str  # upper case
    path: str  # the full template, base path included: /picus/get/{id}
    scope: str  # "read" or "write"
    integer_path_params: frozenset[str]


@dataclass(frozen=True)
class ApiSpec:
    """The spec as served (`raw`, what Connexion gets) and its operations."""

    raw: dict[str, Any]
    base_path: str
    operations: tuple[Operation, ...]


def load_api_spec(path: Path, keys_enabled: bool) -> ApiSpec:
    """Read the spec; without keys, every security requirement is taken out of it.

    (So the spec served, Swagger UI and schemathesis see what this instance enforces.)
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 20x faster per app
    raw: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    if not keys_enabled:
        raw.pop("security", None)
        for _path, _method, operation in _each_operation(raw):
            operation.pop("security", None)
    servers = raw.get("servers") or [{}]
    base_path = str(servers[0].get("url", "")).rstrip("/")
    operations = tuple(
        Operation(
            operation_id=operation["operationId"],
            method=method.upper(),
            path=base_path + template,
            scope="read" if operation.get(SCOPE_EXTENSION) == "read" else "write",
            integer_path_params=frozenset(
                parameter["name"]
                for parameter in (_resolved(raw, p) for p in operation.get("parameters", []))
                if parameter["in"] == "path"
                and _resolved(raw, parameter["schema"]).get("type") == "integer"
            ),
        )
        for template, method, operation in _each_operation(raw)
    )
    return ApiSpec(raw, base_path, operations)


def _each_operation(raw: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (template, method, operation)
        for template, path_item in raw.get("paths", {}).items()
        for method, operation in path_item.items()
        if method in HTTP_METHODS
    ]


def _resolved(raw: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node`, or what its local `$ref` (`#/components/...`) points at."""
    while "$ref" in node:
        target: Any = raw
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node
