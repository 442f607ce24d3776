"""The Node tools of tools/<tool>/ (Redocly CLI for `make lint`, the clients' generator and
compiler for `make clients`), installed from their locks by tools/toolchain: exact versions,
locked with digests and no registry host; and make runs each where it should."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from tests.support.devdb import ROOT

#: Each Node tool's folder and the packages it installs.
NODE_TOOLS = {
    "spec-lint": {"@redocly/cli"},
    "clients": {"@hey-api/openapi-ts", "typescript"},
}


def test_every_locked_tool_is_checked() -> None:
    locked = {path.parent.name for path in (ROOT / "tools").glob("*/package-lock.json")}
    assert locked == set(NODE_TOOLS)


@pytest.mark.parametrize("tool", NODE_TOOLS)
def test_pinned_and_locked_with_digests_only(tool: str) -> None:
    folder = ROOT / "tools" / tool
    package = json.loads((folder / "package.json").read_text())
    assert set(package["dependencies"]) == NODE_TOOLS[tool]
    locked = json.loads((folder / "package-lock.json").read_text())["packages"]
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: an exact version, not a range"
        assert locked[f"node_modules/{name}"]["version"] == version
    for name, entry in locked.items():
        if name:
            assert entry["integrity"].startswith("sha512-"), name
            # npm's omit-lockfile-registry-resolved: the machine's registry, never a host here.
            assert "resolved" not in entry, name
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name != "package-lock.json":
            assert not re.search(r"https?://", path.read_text()), path
    # The lock's only addresses are the packages' funding pages (npm keeps them), no registry.
    lock = (folder / "package-lock.json").read_text()
    assert not re.search(r"registry|npmjs", lock, re.IGNORECASE)


def _dry_run(target: str) -> list[str]:
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert dry.returncode == 0, dry.stderr
    return dry.stdout.splitlines()


def test_make_lint_runs_the_spec_linter() -> None:
    assert "tools/spec-lint/run" in _dry_run("lint")  # the linter itself, not a name


def test_make_clients_writes_and_make_contract_checks_once() -> None:
    assert any("-m tools.clients.generate write" in line for line in _dry_run("clients"))
    assert any("-m tools.clients.generate check" in line for line in _dry_run("clients-check"))
    # make contract checks the clients once, in its tests (test_generated_clients.py).
    contract = "\n".join(_dry_run("contract"))
    assert "tests/contract" in contract
    assert "tools.clients.generate" not in contract


def test_make_test_installs_the_node_tools_before_the_workers_start() -> None:
    assert "tools/clients/run install" in _dry_run("test-prerequisites")
