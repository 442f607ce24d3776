"""Generate, write and check the published OpenAPI documents (services/<svc>/openapi.json).

    python -m tools.contract.openapi_spec write [service ...]   # what `make openapi` runs
    python -m tools.contract.openapi_spec check [service ...]   # exit 1 with a diff when stale

The document comes from the service's own create_app in the testing environment, with every
<PREFIX>_* environment variable ignored and a throwaway instance folder, so that it depends on
the code only: never on ports, paths, keys or the machine it is generated on.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory_core.runtime.lifecycle import shutdown

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    env_prefix: str

    @property
    def spec_path(self) -> Path:
        return ROOT / "services" / self.name / "openapi.json"


#: Every service of the workspace: services/<name>/ holds package <name>_service, whose settings
#: are <NAME>_* variables.
SERVICES = {
    path.parent.name: Service(
        path.parent.name, f"{path.parent.name}_service", path.parent.name.upper()
    )
    for path in sorted((ROOT / "services").glob("*/pyproject.toml"))
}


def parse_services(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> tuple[argparse.Namespace, list[Service]]:
    """``parser``'s arguments, with the services named last on the command line (every one
    when none is; an unknown name is a usage error). The tools of the contract and the
    clients take their services this way."""
    parser.add_argument("services", nargs="*", metavar="service", help=", ".join(SERVICES))
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}")
    return args, [SERVICES[name] for name in args.services or SERVICES]


@contextmanager
def _isolated_environment(prefix: str) -> Iterator[None]:
    """Hide the service's <PREFIX>_* variables (a developer's shell must not change the spec)."""
    hidden = {name: value for name, value in os.environ.items() if name.startswith(prefix + "_")}
    for name in hidden:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(hidden)


def live_spec(service: Service) -> dict[str, Any]:
    """The OpenAPI document the service's code serves at /openapi.json right now."""
    create_app: Callable[[dict[str, Any]], Any] = importlib.import_module(
        service.package
    ).create_app
    with _isolated_environment(service.env_prefix), tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {
                "ENV": "testing",
                "INSTANCE_PATH": instance,
                # Never contacted: serving the spec touches no database and no other service.
                "MONGO_URI": "mongodb://127.0.0.1:9/",
                "LOG_LEVEL": "WARNING",
            }
        )
        try:
            response = app.test_client().get("/openapi.json")
        finally:
            shutdown(app)  # a request starts the app's background threads (event consumer)
        if response.status_code != 200:
            raise RuntimeError(f"{service.name}: GET /openapi.json -> {response.status_code}")
        spec: dict[str, Any] = response.get_json()
    return spec


def render(spec: dict[str, Any]) -> str:
    """The canonical text of a spec: sorted keys, 2-space indent, a trailing newline."""
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def diff(service: Service, committed: str, live: str) -> str:
    """A unified diff from the committed spec to the live one (empty when they agree)."""
    path = service.spec_path.relative_to(ROOT)
    return "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            live.splitlines(keepends=True),
            fromfile=f"{path} (committed)",
            tofile=f"{path} (generated from the code)",
        )
    )


def stale_diff(service: Service) -> str:
    """The diff between the committed spec and the code's; empty when up to date."""
    committed = service.spec_path.read_text() if service.spec_path.exists() else ""
    return diff(service, committed, render(live_spec(service)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("write", "check"))
    args, services = parse_services(parser, argv)
    status = 0
    for service in services:
        if args.command == "write":
            text = render(live_spec(service))
            service.spec_path.write_text(text)
            print(f"wrote {service.spec_path.relative_to(ROOT)}")
            continue
        changes = stale_diff(service)
        if changes:
            status = 1
            sys.stdout.write(changes)
            print(f"{service.spec_path.relative_to(ROOT)} is stale: run `make openapi`")
        else:
            print(f"{service.spec_path.relative_to(ROOT)} is up to date")
    return status


if __name__ == "__main__":
    sys.exit(main())
