"""The Makefile's promises a new user relies on: dry runs act on nothing; make run's Procfile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.devdb import ROOT


def _make(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # In a process group of its own: a recipe that kills its group would kill only that.
    return subprocess.run(
        ["make", "--no-print-directory", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,
        env=env,
        timeout=60,
    )


def test_a_dry_run_of_make_run_prints_and_leaves_its_caller_alone() -> None:
    dry = _make("-n", "run")
    assert dry.returncode == 0, dry.stderr
    assert "tools/run --procfile Procfile" in dry.stdout
    assert "kill" not in dry.stdout


def test_make_run_with_tracing_adds_the_viewer_and_points_the_services_at_it() -> None:
    dry = _make("-n", "run", "TRACING=1")
    assert dry.returncode == 0, dry.stderr
    assert "tools/trace-viewer install" in dry.stdout
    assert "traces auth todo" in dry.stdout.replace("\\\n\t", "")
    assert _tracing_environment("TRACING=1") == [
        "zipkin_json",
        "http://127.0.0.1:9411/api/v2/spans",
    ]
    assert _tracing_environment() == []  # make run alone: tracing stays off


def _tracing_environment(*arguments: str) -> list[str]:
    """What make exports to the services' processes for tracing."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACING"))}
    shown = _make(
        "--eval",
        "show-tracing: ; @echo $$OTEL_TRACES_EXPORTER $$OTEL_EXPORTER_ZIPKIN_ENDPOINT",
        "show-tracing",
        *arguments,
        env=environment,
    )
    return shown.stdout.split()


def test_the_procfile_names_the_processes_of_make_run() -> None:
    checked = subprocess.run(
        [sys.executable, "tools/run", "--procfile", "Procfile", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == "Procfile: devdb, traces, mail, auth, todo\n"


def test_a_missing_prerequisite_is_one_line_with_the_command_that_installs_it(
    tmp_path: Path,
) -> None:
    """Python is the one prerequisite tools/require checks (the dev database's build checks
    Rust, cmake and a C compiler; Go, Node and Java come from PyPI: tools/toolchain)."""
    prerequisite, named, how = "python", "Python 3.11+", "apt-get install python3 python3-venv"
    # A PATH with bash and the basic tools but no Python.
    for tool in ("bash", "sed", "uname", "dirname"):
        (tmp_path / tool).symlink_to(
            subprocess.run(
                ["bash", "-c", f"command -v {tool}"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
    missing = subprocess.run(
        [str(ROOT / "tools" / "require"), prerequisite],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": str(tmp_path)},
    )
    assert missing.returncode == 1
    lines = missing.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"missing prerequisite: {named}")
    assert how in lines[0]


def test_a_browser_named_but_absent_is_refused_with_what_to_do() -> None:
    absent = subprocess.run(
        [str(ROOT / "tools" / "ensure-browser"), "--no-install"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CHROMIUM_PATH": "/nonexistent/chromium"},
    )
    assert absent.returncode == 1
    assert absent.stdout == ""
    assert "CHROMIUM_PATH is /nonexistent/chromium" in absent.stderr
