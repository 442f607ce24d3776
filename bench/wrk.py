"""Run wrk with one of bench/lua's scripts and read the JSON line its done() prints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

LUA_DIR = Path(__file__).resolve().parent / "lua"
_MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class Load:
    """How hard wrk pushes: threads, open connections, seconds (after a warm-up)."""

    threads: int
    connections: int
    seconds: float
    warmup_seconds: float


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    return found


def run(
    url: str,
    script: str,
    *,
    threads: int,
    connections: int,
    seconds: float,
    env: dict[str, str] | None = None,
) -> Result:
    """One wrk run of ``seconds``; raise if wrk fails or prints no result."""
    command = [
        wrk_binary(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={LUA_DIR / script}",
        url,
    ]
    environment = {
        **os.environ,
        "BENCH_LUA_DIR": str(LUA_DIR),
        "BENCH_THREADS": str(threads),
        **(env or {}),
    }
    finished = subprocess.run(  # noqa: S603 (a fixed command line)
        command, env=environment, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith(_MARKER)]
    if finished.returncode != 0 or not lines:
        raise RuntimeError(
            f"wrk {script} against {url} failed ({finished.returncode}):\n"
            f"{finished.stdout}\n{finished.stderr}"
        )
    data = json.loads(lines[-1][len(_MARKER) :])
    latency = data["latency_us"]
    elapsed = data["duration_us"] / 1e6
    return Result(
        requests=data["requests"],
        seconds=round(elapsed, 3),
        requests_per_second=round(data["requests"] / elapsed, 1),
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        errors=data["errors"],
    )


def measure(
    url: str,
    script: str,
    load: Load,
    env: Callable[[], dict[str, str]],
    *,
    before_measured: Callable[[], None] = lambda: None,
) -> Result:
    """A warm-up run (discarded), then the measured run; ``env`` is called before each run
    (scripts with pools of single-use tokens or ETags need fresh ones every time), and
    ``before_measured`` right before the measured one."""
    if load.warmup_seconds > 0:
        run(
            url,
            script,
            threads=load.threads,
            connections=load.connections,
            seconds=load.warmup_seconds,
            env=env(),
        )
    measured_env = env()
    before_measured()
    return run(
        url,
        script,
        threads=load.threads,
        connections=load.connections,
        seconds=load.seconds,
        env=measured_env,
    )
