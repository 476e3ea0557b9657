"""The GitHub Actions workflows: pinned actions, no token left behind, least privilege.

actionlint and the workflow schema (make lint-deploy) check syntax; these tests check the
supply-chain promises. The SHAs themselves were taken from GitHub's own runner logs
("Download action repository 'X@vN' (SHA:...)") and public workflows that agree on them;
this machine cannot reach GitHub to resolve a tag (see docs/deploy.md).
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools.paths import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _uses(path: Path) -> list[str]:
    """Every `uses:` value with its trailing comment, as written."""
    return re.findall(r"^\s*(?:- )?uses:\s*(.+?)\s*$", path.read_text(encoding="utf-8"), re.M)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_every_action_is_pinned_by_commit_sha_with_its_version(workflow: Path) -> None:
    uses = _uses(workflow)
    assert uses
    for use in uses:
        assert PINNED.match(use), f"{workflow.name}: {use}"


def test_one_action_is_pinned_to_one_commit_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for workflow in WORKFLOWS:
        for use in _uses(workflow):
            action, _, pin = use.partition("@")
            pins.setdefault(action, set()).add(pin)
    assert all(len(found) == 1 for found in pins.values()), pins


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_checkout_never_leaves_its_token_in_git_config(workflow: Path) -> None:
    for job in _load(workflow)["jobs"].values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, job.get("name")


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_the_token_can_only_read_unless_a_job_says_more(workflow: Path) -> None:
    loaded = _load(workflow)
    assert loaded["permissions"] == {"contents": "read"}
    for name, job in loaded["jobs"].items():
        if name != "release":
            assert "permissions" not in job, name


def test_the_release_job_may_write_packages_and_nothing_else() -> None:
    release = _load(REPO / ".github" / "workflows" / "ci.yml")["jobs"]["release"]
    assert release["permissions"] == {"contents": "read", "packages": "write"}
    assert release["if"] == "startsWith(github.ref, 'refs/tags/v')"
    contexts = [
        step["with"]["context"]
        for step in release["steps"]
        if str(step.get("uses", "")).startswith("docker/build-push-action@")
    ]
    assert contexts == [".", "deploy/pgbouncer"]
