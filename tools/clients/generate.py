"""Generate, write and check the typed clients of clients/, made from the published specs.

    python -m tools.clients.generate write [service ...]   # what `make clients` runs
    python -m tools.clients.generate check [service ...]   # exit 1 with a diff when stale

Each service's committed spec (services/<svc>/openapi.json) gives two clients:
clients/python/<svc> (openapi-python-client, a package named <svc>_client) and
clients/typescript/<svc> (@hey-api/openapi-ts with its fetch client, through tools/clients/run).
Both are generated into a fresh temporary folder and then compared or copied, so that the
result depends on the spec and the pinned generators only: never on the folder, the machine or
the time (check regenerates and compares byte for byte).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tools.contract.openapi_spec import ROOT, SERVICES, parse_services

CLIENTS = ROOT / "clients"
LANGUAGES = ("python", "typescript")



def client_path(language: str, service: str, root: Path = CLIENTS) -> Path:
    return root / language / service


def _python_config(service: str) -> dict[str, object]:
    return {
        "project_name_override": f"{service}-client",
        "package_name_override": f"{service}_client",
        # The generator's own hooks, without ruff's cache folder in the output. ruff reads the
        # generated pyproject.toml's [tool.ruff], wherever the folder is.
        "post_hooks": ["ruff check --fix-only --no-cache .", "ruff format --no-cache ."],
    }


def _generate_python(service: str, output: Path, work: Path) -> None:
    config = work / f"{service}-python-config.json"
    config.write_text(json.dumps(_python_config(service)))
    bin_dir = Path(sys.executable).parent
    subprocess.run(  # noqa: S603 (a fixed program with file arguments)
        [
            bin_dir / "openapi-python-client",
            "generate",
            "--path",
            SERVICES[service].spec_path,
            "--meta",
            "poetry",
            "--config",
            config,
            "--output-path",
            output,
            "--fail-on-warning",
        ],
        check=True,
        cwd=work,
        # The workspace's ruff (pinned in poetry.lock) runs the hooks, never another one.
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        stdout=subprocess.DEVNULL,
    )


def _generate_typescript(service: str, output: Path) -> None:
    subprocess.run(  # noqa: S603 (a fixed program with file arguments)
        [ROOT / "tools" / "clients" / "run", "openapi-ts", SERVICES[service].spec_path, output],
        check=True,
        cwd=ROOT,
    )


def generate(services: Sequence[str], root: Path) -> None:
    """Generate every client of ``services`` into ``root``/<language>/<service>."""
    with tempfile.TemporaryDirectory() as work:
        for service in services:
            _generate_python(service, client_path("python", service, root), Path(work))
            _generate_typescript(service, client_path("typescript", service, root))


#: What using a client leaves in its folder (importing it, linting it): never generated, and
#: ignored by git (the generated .gitignore, or the cache's own).
CACHES = frozenset({"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache"})


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path, with its bytes (caches left out)."""
    if not folder.exists():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not CACHES.intersection(path.relative_to(folder).parts)
    }


def diff(name: str, committed: dict[str, bytes], generated: dict[str, bytes]) -> str:
    """A unified diff from the committed client ``name`` to the generated one."""
    chunks: list[str] = []
    for relative in sorted(committed.keys() | generated.keys()):
        before, after = committed.get(relative), generated.get(relative)
        if before == after:
            continue
        chunks.extend(
            difflib.unified_diff(
                (before or b"").decode(errors="replace").splitlines(keepends=True),
                (after or b"").decode(errors="replace").splitlines(keepends=True),
                fromfile=f"{name}/{relative} (committed)" if before is not None else "/dev/null",
                tofile=f"{name}/{relative} (generated)" if after is not None else "/dev/null",
            )
        )
    return "".join(chunks)


def stale_diffs(services: Sequence[str]) -> dict[str, str]:
    """Each committed client that differs from what its spec generates, with the diff."""
    with tempfile.TemporaryDirectory() as fresh:
        generate(services, Path(fresh))
        changes: dict[str, str] = {}
        for language in LANGUAGES:
            for service in services:
                name = client_path(language, service).relative_to(ROOT).as_posix()
                committed = files(client_path(language, service))
                generated = files(client_path(language, service, Path(fresh)))
                if committed != generated:
                    changes[name] = diff(name, committed, generated)
    return changes


def write(services: Sequence[str]) -> None:
    with tempfile.TemporaryDirectory() as fresh:
        generate(services, Path(fresh))
        for language in LANGUAGES:
            for service in services:
                target = client_path(language, service)
                shutil.rmtree(target, ignore_errors=True)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(client_path(language, service, Path(fresh)), target)
                print(f"wrote {target.relative_to(ROOT)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("command", choices=("write", "check"))
    args, chosen = parse_services(parser, argv)
    services = [service.name for service in chosen]
    if args.command == "write":
        write(services)
        return 0
    changes = stale_diffs(services)
    for name, text in changes.items():
        sys.stdout.write(text)
        print(f"{name} is stale: run `make clients`")
    if not changes:
        print("clients are up to date: " + ", ".join(services))
    return 1 if changes else 0


if __name__ == "__main__":
    sys.exit(main())
