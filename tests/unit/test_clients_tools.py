"""make clients' Node tools: exact versions, locked with digests and no registry host; the
generated clients' drift check and its tools wired into make (contract, test, new-service)."""

from __future__ import annotations

import json
import re
import subprocess

from tests.support.devdb import ROOT

TOOLS = ROOT / "tools" / "clients"


def test_the_generator_and_compiler_are_pinned_and_locked_with_digests_only() -> None:
    package = json.loads((TOOLS / "package.json").read_text())
    assert set(package["dependencies"]) == {"@hey-api/openapi-ts", "typescript"}
    locked = json.loads((TOOLS / "package-lock.json").read_text())["packages"]
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: an exact version, not a range"
        assert locked[f"node_modules/{name}"]["version"] == version
    for name, entry in locked.items():
        if name:
            assert entry["integrity"].startswith("sha512-"), name
            # npm's omit-lockfile-registry-resolved: the machine's registry, never a host here.
            assert "resolved" not in entry, name
    for path in (TOOLS / "package.json", TOOLS / "run", TOOLS / "openapi-ts.config.mjs"):
        assert not re.search(r"https?://", path.read_text()), path
    # The lock's only addresses are the packages' funding pages (npm keeps them), no registry.
    lock = (TOOLS / "package-lock.json").read_text()
    assert not re.search(r"registry|npmjs", lock, re.IGNORECASE)


def _dry_run(target: str) -> str:
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", *target.split()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert dry.returncode == 0, dry.stderr
    return dry.stdout


def test_make_clients_writes_and_make_contract_checks() -> None:
    assert "tools/clients/generate.py write" in _dry_run("clients")
    assert "tools/clients/generate.py check" in _dry_run("clients-check")
    assert "tools/clients/generate.py check" in _dry_run("contract")


def test_make_test_installs_the_node_tools_before_the_workers_start() -> None:
    assert "tools/clients/run install" in _dry_run("test-prerequisites")
