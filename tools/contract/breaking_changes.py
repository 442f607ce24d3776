"""Fail when a service's published spec breaks its clients without a major version bump.

    python -m tools.contract.breaking_changes [--oasdiff PATH] [--base REF] [service ...]

Each services/<svc>/openapi.json (as in the working tree) is compared with the same file at a
base revision by oasdiff (https://github.com/oasdiff/oasdiff); its ERR-level findings are the
breaking changes: removed paths, operations or response fields, narrowed types, new required
inputs... They are allowed only when info.version's major number went up.

The base revision, first that applies:
1. --base or the BASE_REF environment variable;
2. the merge-base of HEAD with origin/main, when that ref exists (a branch under review);
3. the newest tag <svc>-v* reachable from HEAD (the last release of that service);
4. HEAD~1 (CI on main: the change the last commit made).
When none resolves (a shallow clone, the first commit) or the base has no spec yet, there is
nothing to break and the check passes, saying why.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.contract import openapi_spec
from tools.contract.openapi_spec import ROOT

#: Every service of the workspace, by name.
SERVICES = tuple(openapi_spec.SERVICES)
#: Where `make oasdiff` installs it (outside the clone: <cache>/oasdiff-<version>/oasdiff).
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
INSTALLED_OASDIFF = CACHE / "flask-factory"


@dataclass(frozen=True)
class Verdict:
    """The outcome for one service: ok or not, and what to tell the reader."""

    ok: bool
    message: str
    breaking: str = ""


def major(version: str) -> int:
    """The major number of a semantic version ("1.4.2" -> 1); ValueError when it has none."""
    head = version.strip().lstrip("vV").split(".", 1)[0]
    if not head.isdigit():
        raise ValueError(f"info.version {version!r} is not a semantic version")
    return int(head)


def oasdiff_path(explicit: str | None = None) -> Path:
    """The oasdiff binary: --oasdiff, $OASDIFF, the one `make oasdiff` installed, or PATH."""
    for candidate in (explicit, os.environ.get("OASDIFF")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    installed = sorted(INSTALLED_OASDIFF.glob("oasdiff-*/oasdiff"))
    if installed:
        return installed[-1]
    found = shutil.which("oasdiff")
    if found:
        return Path(found)
    raise FileNotFoundError("oasdiff is not installed: run `make oasdiff`")


def breaking_changes(base: dict[str, Any], revision: dict[str, Any], oasdiff: Path) -> str:
    """oasdiff's ERR-level findings from ``base`` to ``revision``, as text ("" when none)."""
    with tempfile.TemporaryDirectory() as tmp:
        base_path, revision_path = Path(tmp, "base.json"), Path(tmp, "revision.json")
        base_path.write_text(json.dumps(base))
        revision_path.write_text(json.dumps(revision))
        result = subprocess.run(  # noqa: S603 (a fixed program with file arguments)
            [
                str(oasdiff),
                "breaking",
                str(base_path),
                str(revision_path),
                "--fail-on",
                "ERR",
                "--format",
                "text",
                "--color",
                "never",
                "--allow-external-refs=false",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode not in (0, 1) or (result.returncode == 1 and not result.stdout.strip()):
        raise RuntimeError(f"oasdiff failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout.strip() if result.returncode == 1 else ""


def judge(base: dict[str, Any], revision: dict[str, Any], oasdiff: Path) -> Verdict:
    """Breaking changes are allowed only with a bump of info.version's major number."""
    old, new = base["info"]["version"], revision["info"]["version"]
    found = breaking_changes(base, revision, oasdiff)
    if not found:
        return Verdict(True, f"no breaking changes ({old} -> {new})")
    if major(new) > major(old):
        return Verdict(True, f"breaking changes allowed by the major bump {old} -> {new}", found)
    return Verdict(
        False,
        f"breaking changes without a major version bump ({old} -> {new}): bump info.version "
        f"to {major(old) + 1}.0.0 (the service's API_VERSION setting) or keep the old contract",
        found,
    )


def _git(*args: str, cwd: Path = ROOT) -> str | None:
    result = subprocess.run(  # noqa: S603
        ["git", *args],  # noqa: S607 (git from PATH, as every developer runs it)
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _commit(ref: str, cwd: Path) -> str | None:
    return _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=cwd)


def choose_base(service: str, *, explicit: str | None = None, cwd: Path = ROOT) -> tuple[str, str]:
    """(commit, why) of the revision to compare with; commit is "" when there is none."""
    requested = explicit or os.environ.get("BASE_REF")
    if requested:
        commit = _commit(requested, cwd)
        if commit is None:
            raise ValueError(f"base ref {requested!r} does not name a commit")
        return commit, f"{requested} (requested)"
    if _commit("origin/main", cwd):
        merge_base = _git("merge-base", "HEAD", "origin/main", cwd=cwd)
        head = _commit("HEAD", cwd)
        # On main itself the merge-base is HEAD: compare with the commit before instead.
        if merge_base and merge_base != head:
            return merge_base, "the merge-base with origin/main"
    tags = _git("tag", "--merged", "HEAD", "--list", f"{service}-v*", "--sort=-v:refname", cwd=cwd)
    if tags:
        tag = tags.splitlines()[0]
        commit = _commit(tag, cwd)
        if commit:
            return commit, f"the last release tag {tag}"
    parent = _commit("HEAD~1", cwd)
    if parent:
        return parent, "HEAD~1"
    return "", "no earlier commit (first commit or shallow clone)"


def base_spec(service: str, commit: str, cwd: Path = ROOT) -> dict[str, Any] | None:
    """The service's spec as committed at ``commit``; None when it did not exist yet."""
    text = _git("show", f"{commit}:services/{service}/openapi.json", cwd=cwd)
    return json.loads(text) if text else None


def check_service(
    service: str, oasdiff: Path, *, explicit_base: str | None = None, cwd: Path = ROOT
) -> Verdict:
    """Compare the working tree's spec of ``service`` with its spec at the chosen base."""
    commit, why = choose_base(service, explicit=explicit_base, cwd=cwd)
    if not commit:
        return Verdict(True, f"{service}: nothing to compare with: {why}")
    base = base_spec(service, commit, cwd)
    if base is None:
        return Verdict(True, f"{service}: no published spec at {why} ({commit[:12]}) yet")
    revision = json.loads((cwd / "services" / service / "openapi.json").read_text())
    verdict = judge(base, revision, oasdiff)
    return Verdict(
        verdict.ok, f"{service}: {verdict.message}; base: {why} ({commit[:12]})", verdict.breaking
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oasdiff", help="path of the oasdiff binary")
    parser.add_argument("--base", help="git ref to compare with (default: see above)")
    args, services = openapi_spec.parse_services(parser, argv)
    oasdiff = oasdiff_path(args.oasdiff)
    status = 0
    for service in services:
        verdict = check_service(service.name, oasdiff, explicit_base=args.base)
        print(("ok   " if verdict.ok else "FAIL ") + verdict.message)
        if verdict.breaking:
            print("\n".join("     " + line for line in verdict.breaking.splitlines()))
        status |= 0 if verdict.ok else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
