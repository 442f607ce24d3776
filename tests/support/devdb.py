"""Start and stop the dev database (build/devdb: SecantusDB's secantusd-rs) as a real process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEVDB_BIN = Path(os.environ.get("DEVDB_BIN", ROOT / "build" / "devdb"))
DEVDB_CONFIG = ROOT / "tools" / "devdb" / "secantusd.toml"
_LISTENING = re.compile(r"listening on (\S+):(\d+)\s*$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DevDB:
    """One dev database process; stop() and start() again keep its port and data.

    The first start asks for port 0 and reads the port the server prints, so parallel test
    workers never race for a free port; a restart asks for that same port again.
    """

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        if not DEVDB_BIN.exists():
            raise RuntimeError(f"{DEVDB_BIN} is missing: run `make devdb` first")
        self.data_dir = data_dir
        self.port = port or 0
        self.process: subprocess.Popen[str] | None = None

    @property
    def uri(self) -> str:
        if not self.port:
            raise RuntimeError("the dev database has not been started yet")
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60.0) -> DevDB:
        command = [
            str(DEVDB_BIN),
            "--config",
            str(DEVDB_CONFIG),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            str(self.data_dir),
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            listening = _LISTENING.search(line)
            if listening:
                self.port = int(listening.group(2))
                return self
            if not line and self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"the dev database did not start (port {self.port or 'any'})")

    def stop(self) -> None:
        """A clean shutdown: SIGTERM, which checkpoints and closes WiredTiger."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close()

    def kill(self) -> None:
        """An abrupt outage: SIGKILL, no shutdown (recovery runs from the journal)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self._close()

    def _close(self) -> None:
        assert self.process is not None
        if self.process.stdout:
            self.process.stdout.close()
        self.process = None
