"""tools/new-service wires a service in whatever the workspace's other services are called."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

from tests.support.devdb import ROOT


def _new_service() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader(
        "new_service", str(ROOT / "tools" / "new-service")
    )
    spec = importlib.util.spec_from_loader("new_service", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_overlays_get_the_service_once_todo_is_gone(tmp_path: Path) -> None:
    """The kustomize edit used to anchor on the line `  - todo`: once a team deleted todo, it
    silently added nothing."""
    for overlay in ("dev", "prod"):
        (tmp_path / overlay).mkdir()
        (tmp_path / overlay / "kustomization.yaml").write_text(
            "kind: Kustomization\nresources:\n  - namespace.yaml\n  - auth\n  - billing\n"
        )
    (tmp_path / "prod" / "ingress.yaml").write_text("spec:\n  rules: []\n")
    _new_service().wire_kustomize(tmp_path, "notes")
    for overlay in ("dev", "prod"):
        text = (tmp_path / overlay / "kustomization.yaml").read_text()
        assert text.endswith("  - billing\n  - notes\n")
    _new_service().wire_kustomize(tmp_path, "notes")  # again: nothing more
    assert (tmp_path / "dev" / "kustomization.yaml").read_text().count("  - notes\n") == 1
