"""The spec linter of `make lint`: one exact version, locked with digests and no registry host."""

from __future__ import annotations

import json
import re
import subprocess

from tests.support.devdb import ROOT

LINT = ROOT / "tools" / "spec-lint"


def test_the_linter_is_pinned_and_locked_with_digests_only() -> None:
    package = json.loads((LINT / "package.json").read_text())
    (version,) = package["dependencies"].values()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "an exact version, not a range"
    lock = json.loads((LINT / "package-lock.json").read_text())
    locked = lock["packages"]
    assert locked["node_modules/@redocly/cli"]["version"] == version
    for name, entry in locked.items():
        if name:
            assert entry["integrity"].startswith("sha512-"), name
            # npm's omit-lockfile-registry-resolved: the machine's registry, never a host here.
            assert "resolved" not in entry, name
    for path in (LINT / "package.json", LINT / "package-lock.json", LINT / "run"):
        assert not re.search(r"https?://", path.read_text()), path


def test_make_lint_runs_it() -> None:
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert dry.returncode == 0, dry.stderr
    assert "spec-lint" in dry.stdout
    assert "tools/spec-lint/run" in dry.stdout.splitlines()  # the linter itself, not a name
