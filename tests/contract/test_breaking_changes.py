"""The breaking-change gate: oasdiff against the base revision, unless the major version rose."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tools.contract import breaking_changes
from tools.contract.breaking_changes import SERVICES, check_service, choose_base, judge

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "ci",
    "GIT_AUTHOR_EMAIL": "ci@example.invalid",
    "GIT_COMMITTER_NAME": "ci",
    "GIT_COMMITTER_EMAIL": "ci@example.invalid",
}


@pytest.fixture(scope="module")
def oasdiff() -> Path:
    try:
        return breaking_changes.oasdiff_path()
    except FileNotFoundError as error:
        pytest.fail(f"{error} (make test installs it)")


@pytest.fixture(scope="module")
def todo_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(
        (breaking_changes.ROOT / "services" / "todo" / "openapi.json").read_text()
    )
    return spec


def _with_version(spec: dict[str, Any], version: str) -> dict[str, Any]:
    changed = copy.deepcopy(spec)
    changed["info"]["version"] = version
    return changed


def test_a_removed_path_without_a_major_bump_fails(
    todo_spec: dict[str, Any], oasdiff: Path
) -> None:
    base = _with_version(todo_spec, "1.4.0")
    revision = _with_version(todo_spec, "1.5.0")
    del revision["paths"]["/todos/{todo_id}"]
    verdict = judge(base, revision, oasdiff)
    assert not verdict.ok
    assert "api-path-removed" in verdict.breaking
    assert "DELETE /todos/{todo_id}" in verdict.breaking
    assert "2.0.0" in verdict.message


def test_a_removed_path_with_a_major_bump_passes(todo_spec: dict[str, Any], oasdiff: Path) -> None:
    base = _with_version(todo_spec, "1.4.0")
    revision = _with_version(todo_spec, "2.0.0")
    del revision["paths"]["/todos/{todo_id}"]
    verdict = judge(base, revision, oasdiff)
    assert verdict.ok
    assert "api-path-removed" in verdict.breaking
    assert "major bump 1.4.0 -> 2.0.0" in verdict.message


def test_removed_response_fields_narrowed_types_and_new_required_inputs_fail(
    todo_spec: dict[str, Any], oasdiff: Path
) -> None:
    schemas = "components", "schemas"
    revision = copy.deepcopy(todo_spec)
    todo = revision[schemas[0]][schemas[1]]["Todo"]
    del todo["properties"]["notes"]  # a field clients read is gone
    create = revision[schemas[0]][schemas[1]]["TodoCreate"]
    create["properties"]["title"]["maxLength"] = 10  # a narrowed input
    create["properties"]["project"] = {"type": "string"}
    create.setdefault("required", []).append("project")  # a new required input
    verdict = judge(todo_spec, revision, oasdiff)
    assert not verdict.ok
    for finding in (
        "response-required-property-removed",
        "request-property-max-length-decreased",
        "new-required-request-property",
    ):
        assert finding in verdict.breaking, verdict.breaking


def test_additions_are_not_breaking(todo_spec: dict[str, Any], oasdiff: Path) -> None:
    revision = copy.deepcopy(todo_spec)
    revision["components"]["schemas"]["TodoCreate"]["properties"]["colour"] = {"type": "string"}
    revision["paths"]["/todos/stats"] = copy.deepcopy(revision["paths"]["/livez"])
    verdict = judge(todo_spec, revision, oasdiff)
    assert verdict.ok, verdict.breaking
    assert verdict.breaking == ""


def test_a_version_that_is_not_semver_is_refused() -> None:
    with pytest.raises(ValueError, match="not a semantic version"):
        breaking_changes.major("latest")
    assert breaking_changes.major("v3.1.4") == 3


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _commit_spec(repo: Path, spec: dict[str, Any], message: str) -> str:
    path = repo / "services" / "todo" / "openapi.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("BASE_REF", raising=False)
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    return path


def test_base_is_head_s_parent_on_main_and_nothing_on_a_first_commit(
    repo: Path, todo_spec: dict[str, Any], oasdiff: Path
) -> None:
    first = _commit_spec(repo, _with_version(todo_spec, "1.0.0"), "first")
    assert choose_base("todo", cwd=repo)[0] == ""
    assert check_service("todo", oasdiff, cwd=repo).ok
    broken = _with_version(todo_spec, "1.1.0")
    del broken["paths"]["/todos"]
    _commit_spec(repo, broken, "drop /todos")
    commit, why = choose_base("todo", cwd=repo)
    assert (commit, why) == (first, "HEAD~1")
    verdict = check_service("todo", oasdiff, cwd=repo)
    assert not verdict.ok
    assert "api-path-removed" in verdict.breaking


def test_base_is_the_last_release_tag_then_an_explicit_ref(
    repo: Path, todo_spec: dict[str, Any], oasdiff: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    released = _commit_spec(repo, _with_version(todo_spec, "1.0.0"), "release")
    _git(repo, "tag", "todo-v1.0.0")
    _commit_spec(repo, _with_version(todo_spec, "1.0.1"), "patch")
    _commit_spec(repo, _with_version(todo_spec, "1.0.2"), "patch again")
    assert choose_base("todo", cwd=repo) == (released, "the last release tag todo-v1.0.0")
    assert choose_base("auth", cwd=repo)[1] == "HEAD~1"  # auth has no release tag
    monkeypatch.setenv("BASE_REF", "HEAD~1")
    assert choose_base("todo", cwd=repo)[1] == "HEAD~1 (requested)"
    monkeypatch.setenv("BASE_REF", "no-such-ref")
    with pytest.raises(ValueError, match="no-such-ref"):
        choose_base("todo", cwd=repo)


def test_a_branch_is_compared_with_its_merge_base_with_origin_main(
    repo: Path, todo_spec: dict[str, Any], tmp_path: Path, oasdiff: Path
) -> None:
    fork_point = _commit_spec(repo, _with_version(todo_spec, "1.0.0"), "main")
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(repo), str(clone))
    _git(clone, "checkout", "-q", "-b", "feature")
    broken = _with_version(todo_spec, "1.1.0")
    del broken["paths"]["/todos/{todo_id}"]
    _commit_spec(clone, broken, "feature one")
    _commit_spec(clone, _with_version(broken, "1.2.0"), "feature two")
    assert choose_base("todo", cwd=clone) == (fork_point, "the merge-base with origin/main")
    assert not check_service("todo", oasdiff, cwd=clone).ok


def test_a_shallow_clone_without_history_passes_and_says_why(
    repo: Path, todo_spec: dict[str, Any], tmp_path: Path, oasdiff: Path
) -> None:
    _commit_spec(repo, _with_version(todo_spec, "1.0.0"), "one")
    _commit_spec(repo, _with_version(todo_spec, "1.0.1"), "two")
    shallow = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    # A clone of main has origin/main = HEAD: no merge-base to use, and no HEAD~1 here.
    verdict = check_service("todo", oasdiff, cwd=shallow)
    assert verdict.ok
    assert "nothing to compare with" in verdict.message


@pytest.mark.parametrize("service", SERVICES)
def test_the_published_spec_breaks_no_client_without_a_major_bump(
    service: str, oasdiff: Path
) -> None:
    """The gate itself, on this checkout (CI: a fresh clone of main)."""
    verdict = check_service(service, oasdiff)
    assert verdict.ok, f"{verdict.message}\n{verdict.breaking}"
