"""The prod Ingress routes every public operation of the published specs to its service, and
none of the internal ones (the feeds, the probes; /metrics and /docs are outside the specs)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from tests.support.devdb import ROOT

INGRESS = ROOT / "deploy" / "kubernetes" / "overlays" / "prod" / "ingress.yaml"
#: Served to other services or to the cluster only.
INTERNAL = {"/auth/revocations", "/auth/events", "/livez", "/readyz"}


def _routes() -> list[dict[str, Any]]:
    ingress = yaml.safe_load(INGRESS.read_text())
    (rule,) = ingress["spec"]["rules"]
    routes: list[dict[str, Any]] = rule["http"]["paths"]
    return routes


def _routed_to(path: str) -> str | None:
    """The service the Ingress sends ``path`` to (Kubernetes' Exact and Prefix matching: a
    prefix matches whole path segments; the longest match wins), or None."""
    best: tuple[int, str] | None = None
    for route in _routes():
        prefix = route["path"]
        if route["pathType"] == "Exact":
            matches = path == prefix
        else:
            matches = path == prefix or path.startswith(prefix.rstrip("/") + "/")
        if matches and (best is None or len(prefix) > best[0]):
            best = (len(prefix), route["backend"]["service"]["name"])
    return best[1] if best else None


def test_every_public_operation_is_routed_and_no_internal_one() -> None:
    wrong = []
    for service in ("auth", "todo"):
        spec = json.loads((ROOT / "services" / service / "openapi.json").read_text())
        for template in spec["paths"]:
            path = re.sub(r"\{[^}]+\}", "0123456789abcdef01234567", template)
            expected = None if template in INTERNAL else service
            if _routed_to(path) != expected:
                wrong.append(f"{template}: routed to {_routed_to(path)}, expected {expected}")
    assert not wrong, "\n".join(wrong)
