"""`make new-service`: a generated service is wired in, passes the checks and its own tests.

The generator runs on a copy of the repository (its files as git sees them), then the copy's
ruff, mypy, import contracts, OpenAPI writer and the generated service's own tests run there,
as they would for a developer: the tests include a token revoked at auth being refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
from tests.support import pytest_command
from tests.support.devdb import DEVDB_BIN, ROOT
from tests.support.openapi import operations

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository with a service `notes` generated into it."""
    copy = tmp_path_factory.mktemp("workspace")
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    archive = copy / "files.tar"
    with tarfile.open(archive, "w") as tar:
        for name in filter(None, files):
            path = ROOT / name.decode()
            if path.exists():
                tar.add(path, arcname=name.decode(), recursive=False)
    with tarfile.open(archive) as tar:
        tar.extractall(copy, filter="tar")
    archive.unlink()
    generated = _run(copy, [sys.executable, "tools/new-service", "notes", "--port", "5103"])
    assert "services/notes on port 5103" in generated.stderr
    return copy


def _run(cwd: Path, command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        # Not measured into this run's coverage: the generated code is the copy's, not ours.
        **{name: value for name, value in os.environ.items() if not name.startswith("COV_CORE_")},
        "PYTHONPATH": str(cwd / "services" / "notes" / "src"),
        "DEVDB_BIN": str(DEVDB_BIN),
        **env,
    }
    done = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done


def test_the_service_is_wired_into_the_workspace(workspace: Path) -> None:
    project = tomllib.loads((workspace / "pyproject.toml").read_text())
    dependencies = project["tool"]["poetry"]["dependencies"]
    assert dependencies["notes-service"] == {"path": "services/notes", "develop": True}
    assert "notes_service" in project["tool"]["mypy"]["packages"]
    contracts = project["tool"]["importlinter"]["contracts"]
    assert all("notes_service" in str(contract) for contract in contracts)
    service = tomllib.loads((workspace / "services/notes/pyproject.toml").read_text())
    assert service["tool"]["flask-factory"]["port"] == 5103
    procfile = (workspace / "Procfile").read_text()
    assert "\nnotes: exec tools/serve notes ${NOTES_PORT:-5103}\n" in procfile
    for overlay in ("dev", "prod"):
        kustomization = workspace / f"deploy/kubernetes/overlays/{overlay}/kustomization.yaml"
        assert "  - notes\n" in kustomization.read_text()
        assert (workspace / f"deploy/kubernetes/overlays/{overlay}/notes").is_dir()
    assert (
        "path: /notes" in (workspace / "deploy/kubernetes/overlays/prod/ingress.yaml").read_text()
    )


def test_the_generated_code_passes_the_workspace_s_checks(workspace: Path) -> None:
    _run(workspace, [str(BIN / "ruff"), "check", "."])
    _run(workspace, [str(BIN / "ruff"), "format", "--check", "."])
    _run(workspace, [str(BIN / "mypy")])
    contracts = _run(workspace, [str(BIN / "lint-imports")])
    assert "Contracts: 3 kept, 0 broken." in contracts.stdout


def test_its_openapi_document_is_written(workspace: Path) -> None:
    _run(workspace, [sys.executable, "-m", "tools.contract.openapi_spec", "write", "notes"])
    spec = json.loads((workspace / "services/notes/openapi.json").read_text())
    assert set(spec["paths"]) >= {"/notes", "/notes/{item_id}"}
    listing = spec["paths"]["/notes"]["get"]
    assert listing["security"] == [{"bearerAuth": []}, {"oauth2Password": []}]
    assert {"200", "401", "422", "503"} <= set(listing["responses"])
    # The qualities of the published specs (tests/contract/test_spec_quality.py).
    ids = [operation["operationId"] for _method, _path, operation in operations(spec)]
    items = ["listNotes", "createNotesItem", "getNotesItem", "deleteNotesItem"]
    assert sorted(ids) == sorted([*items, "getLiveness", "getReadiness"])
    assert spec["security"] == [{"bearerAuth": []}, {"oauth2Password": []}]
    assert spec["paths"]["/livez"]["get"]["security"] == []
    assert spec["servers"] == [{"url": "http://127.0.0.1:5103", "description": "PUBLIC_URL"}]
    assert spec["info"]["license"]["name"] == "MIT"
    unauthorized = spec["components"]["responses"]["UNAUTHORIZED"]
    assert "WWW-Authenticate" in unauthorized["headers"]
    assert "Retry-After" in spec["components"]["responses"]["SERVICE_UNAVAILABLE"]["headers"]
    assert spec["components"]["schemas"]["Problem"]["additionalProperties"] is True
    for schema in spec["components"]["schemas"].values():
        for field in schema.get("properties", {}).values():
            assert "default" not in field
    # make lint's spec linter (the repository's Node and Redocly CLI: the copy has no .venv).
    linted = _run(
        workspace,
        ["tools/spec-lint/run", "services/notes/openapi.json"],
        VENV=str(ROOT / ".venv"),
    )
    assert "valid" in linted.stdout + linted.stderr


def test_its_own_tests_pass_revoked_token_included(workspace: Path) -> None:
    tests = workspace / "tests" / "integration" / "notes"
    assert (
        "def test_a_token_revoked_at_auth_is_refused" in (tests / "test_notes_api.py").read_text()
    )
    ran = _run(workspace, pytest_command(str(tests)))
    assert "8 passed" in ran.stdout
