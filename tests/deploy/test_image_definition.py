"""The Dockerfile, .dockerignore and requirements.txt: what a build would do, read without Docker.

hadolint (make lint-deploy) checks the Dockerfile's style; these tests check Picus's own
promises: reproducible dependencies, a non-root user, a liveness probe, and the same
`picus` command line the tests run, in exec form so SIGTERM reaches uvicorn.
"""

import json
import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devtools.paths import REPO
from picus import cli

LOCK = REPO / "requirements.txt"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            found.append((keyword.upper(), arguments.strip()))
    return found


def _locked() -> dict[str, str]:
    """Name -> pinned version from requirements.txt."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", LOCK.read_text(), re.M)
    return {canonicalize_name(name): version for name, version in pins}


def test_every_stage_is_python_3_13_slim_pinned_by_one_digest() -> None:
    bases = [args.split()[0] for keyword, args in _instructions() if keyword == "FROM"]
    assert len(bases) >= 2, "multi-stage: build the wheels apart from the runtime"
    assert {base.split("@")[0] for base in bases} == {"python:3.13-slim"}
    (digest,) = {base.partition("@")[2] for base in bases}
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)


def test_runtime_runs_as_a_numeric_non_root_user() -> None:
    users = [args for keyword, args in _instructions() if keyword == "USER"]
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit()
    assert int(uid) > 0
    assert not gid or gid.isdigit()


def test_runtime_installs_only_locked_wheels_with_hashes() -> None:
    runs = " ".join(args for keyword, args in _instructions() if keyword == "RUN")
    assert "--require-hashes" in runs
    assert "-r requirements.txt" in runs
    assert "--only-binary=:all:" in runs  # no compiler needed, none shipped
    assert "--no-index" in runs  # the runtime stage installs the built wheels, nothing else


def test_healthcheck_probes_liveness_with_the_standard_library() -> None:
    (healthcheck,) = [args for keyword, args in _instructions() if keyword == "HEALTHCHECK"]
    assert "urllib.request" in healthcheck
    assert "http://127.0.0.1:8000/healthz" in healthcheck


def test_cmd_is_the_picus_cli_in_exec_form() -> None:
    (cmd,) = [args for keyword, args in _instructions() if keyword == "CMD"]
    command = json.loads(cmd)  # exec form: a JSON array, no shell to swallow SIGTERM
    assert command[:2] == ["picus", "serve"]
    args = cli._parser().parse_args(command[1:])
    assert (args.host, args.port) == ("0.0.0.0", 8000)
    assert args.workers is None  # so PICUS_WORKERS decides
    envs = " ".join(args for keyword, args in _instructions() if keyword == "ENV")
    assert re.search(r"\bPICUS_WORKERS=\d+", envs)


def test_dockerignore_lets_in_only_what_the_build_copies() -> None:
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "start from nothing"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied: set[str] = set()
    for keyword, args in _instructions():
        if keyword == "COPY" and "--from=" not in args:
            copied.update(source.rstrip("/") for source in args.split()[:-1])
    assert copied == allowed
    assert not allowed & {".env", "secrets", ".git", ".venv", "tests"}


def test_lock_pins_every_runtime_dependency_within_its_range() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    locked = _locked()
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.txt: run `make lock`"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements.txt pins {name}=={locked[name]}, outside {requirement.specifier}: "
            "run `make lock`"
        )


@pytest.mark.parametrize("name", ["uvicorn", "psycopg2-binary", "sqlalchemy", "alembic"])
def test_lock_includes_what_the_container_runs(name: str) -> None:
    assert name in _locked()


def test_every_locked_package_carries_hashes() -> None:
    text = LOCK.read_text(encoding="utf-8")
    assert "make lock" in text.splitlines()[1]
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2].strip())
    assert len(entries) == len(_locked())
    for entry in entries:
        assert "--hash=sha256:" in entry, entry.splitlines()[0]
