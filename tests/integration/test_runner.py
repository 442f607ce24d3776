"""`make run`'s runner (tools/run): whatever ends it, everything it started stops within 10 s.

Third audit, 13: closing the terminal (SIGHUP) left the database, the mail catcher and both
services running; the runner then ignored SIGTERM, and SIGKILL left its children as orphans
holding the ports. Here the runner starts a Procfile of processes that each print their pid;
then it is hung up on, terminated or killed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.devdb import ROOT

#: What the issue allows for everything to stop.
STOP_SECONDS = 10.0
#: A process that ignores SIGTERM for a while, as a server busy finishing requests may.
SLOW_TO_STOP = (
    "import os, signal, time; print(f'pid={os.getpid()}', flush=True); "
    "signal.signal(signal.SIGTERM, lambda *_: time.sleep(2) or exit(0)); time.sleep(600)"
)
PROCFILE = f"""\
first: echo "pid=$$"; exec sleep 600
second: exec python3 -c "{SLOW_TO_STOP}"
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by its new parent) counts as stopped.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], list[int]]:
    procfile = tmp_path / "Procfile"
    procfile.write_text(PROCFILE)
    runner = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "run"), "--procfile", str(procfile)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # as a terminal's shell runs it: a session of its own
    )
    assert runner.stdout is not None
    pids: list[int] = []
    deadline = time.monotonic() + 20
    while len(pids) < 2:
        assert time.monotonic() < deadline, "the processes did not start"
        line = runner.stdout.readline()
        found = re.search(r"pid=(\d+)", line)
        if found:
            pids.append(int(found.group(1)))
    return runner, pids


def _all_stopped(pids: list[int]) -> bool:
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


def _clean_up(runner: subprocess.Popen[str], pids: list[int]) -> None:
    for pid in (runner.pid, *pids):
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    runner.wait()
    assert runner.stdout is not None
    runner.stdout.close()


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_runner_stops_everything(tmp_path: Path, sig: signal.Signals) -> None:
    runner, pids = _start(tmp_path)
    try:
        runner.send_signal(sig)
        assert _all_stopped([runner.pid, *pids]), f"still running after {sig.name}"
        runner.wait(timeout=1)
    finally:
        _clean_up(runner, pids)


def test_the_runner_s_death_stops_everything(tmp_path: Path) -> None:
    runner, pids = _start(tmp_path)
    try:
        runner.kill()
        runner.wait()
        assert _all_stopped(pids), "orphans left running after the runner was killed"
    finally:
        _clean_up(runner, pids)
