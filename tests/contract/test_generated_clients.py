"""The generated clients (clients/, `make clients`): what the committed specs generate, and typed.

Like the specs themselves (test_published_specs.py), a committed client that differs from what
its committed spec generates fails, with the diff; the TypeScript clients and their example
compile with tsc --strict.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tools.clients import generate
from tools.clients.generate import ROOT, SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_committed_clients_are_what_the_spec_generates(service: str) -> None:
    for language in generate.LANGUAGES:
        assert (generate.client_path(language, service) / "README.md").exists() or (
            generate.client_path(language, service) / "index.ts"
        ).exists(), f"clients/{language}/{service} is missing: run `make clients`"
    changes = generate.stale_diffs([service])
    assert not changes, (
        f"the clients of {service} differ from what services/{service}/openapi.json generates; "
        "run `make clients` and commit the result:\n" + "\n".join(changes.values())
    )


def test_a_stale_client_fails_with_a_readable_diff() -> None:
    committed = {"todo_client/client.py": b"a\nb\n", "todo_client/gone.py": b"x\n"}
    generated = {"todo_client/client.py": b"a\nc\n", "todo_client/new.py": b"y\n"}
    changes = generate.diff("clients/python/todo", committed, generated)
    assert "--- clients/python/todo/todo_client/client.py (committed)" in changes
    assert "+++ clients/python/todo/todo_client/client.py (generated)" in changes
    assert "-b\n" in changes
    assert "+c\n" in changes
    assert "+++ clients/python/todo/todo_client/new.py (generated)" in changes
    assert "--- clients/python/todo/todo_client/gone.py (committed)" in changes
    assert generate.diff("clients/python/todo", committed, dict(committed)) == ""


def test_caches_left_by_using_a_client_are_not_drift(tmp_path: Path) -> None:
    (tmp_path / "todo_client" / "__pycache__").mkdir(parents=True)
    (tmp_path / "todo_client" / "__init__.py").write_bytes(b"")
    (tmp_path / "todo_client" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / ".ruff_cache").mkdir()
    (tmp_path / ".ruff_cache" / "CACHEDIR.TAG").write_bytes(b"")
    assert generate.files(tmp_path) == {"todo_client/__init__.py": b""}


def test_the_typescript_clients_and_example_pass_tsc_strict() -> None:
    result = subprocess.run(
        [ROOT / "tools" / "clients" / "run", "tsc", "-p", "clients/typescript/tsconfig.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
