"""`make run`, as a person runs it: what it says in its first 20 seconds, and that closing the
terminal stops it all.

Every port and the data folder are moved (AUTH_PORT, TODO_PORT, DEVDB_LISTEN, MAIL_CATCHER_*,
VAR_DIR), so that it runs beside anything else on the machine.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from tests.support.devdb import ROOT, free_port

pytestmark = pytest.mark.gunicorn

FIRST_SECONDS = 20.0
#: A cold start waits for the services' first reads of each other; far below this.
UP_WITHIN = 90.0


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_make_run_talks_to_a_person_and_a_hang_up_stops_it_all(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("auth", "todo", "devdb", "smtp", "inbox")}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MONGO_URI", "TRACING"))},
        "AUTH_PORT": str(ports["auth"]),
        "TODO_PORT": str(ports["todo"]),
        "DEVDB_LISTEN": f"127.0.0.1:{ports['devdb']}",
        "MAIL_CATCHER_SMTP": f"127.0.0.1:{ports['smtp']}",
        "MAIL_CATCHER_LISTEN": f"127.0.0.1:{ports['inbox']}",
        "VAR_DIR": str(tmp_path / "var"),
    }
    started = time.monotonic()
    run = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the terminal's session: the hang-up goes to its group
    )
    assert run.stdout is not None
    lines: list[str] = []
    try:
        selector = selectors.DefaultSelector()
        selector.register(run.stdout, selectors.EVENT_READ)
        pending = b""
        up = False
        while time.monotonic() - started < (FIRST_SECONDS if up else UP_WITHIN):
            if not selector.select(0.2):
                continue
            chunk = os.read(run.stdout.fileno(), 65536)
            if not chunk:
                break
            *complete, pending = (pending + chunk).split(b"\n")
            lines += [line.decode(errors="replace") for line in complete]
            up = up or any("run: everything is up" in line for line in lines)
        text = "\n".join(lines)
        assert up, f"make run was not up within {UP_WITHIN:.0f} s:\n{text[-3000:]}"
        for name in ("auth", "todo"):
            assert f"ready: http://127.0.0.1:{ports[name]}/docs" in text, text
        assert f"ready: http://127.0.0.1:{ports['inbox']}/" in text, text
        noisy = [line for line in lines if re.search(r"Traceback|WARNING|ERROR|CRITICAL", line)]
        assert not noisy, "\n".join(noisy)
        # The polls and probes stay out of view; the lines are for a person, not JSON.
        assert not [line for line in lines if "/auth/revocations" in line], text
        assert not [line for line in lines if line.split("| ", 1)[-1].startswith("{")], text
    finally:
        os.killpg(run.pid, signal.SIGHUP)  # the terminal closes
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_listening(port) for port in ports.values()):
        time.sleep(0.2)
    still = [name for name, port in ports.items() if _listening(port)]
    run.wait(timeout=5)
    run.stdout.close()
    assert not still, f"still listening 10 s after the hang-up: {still}"
