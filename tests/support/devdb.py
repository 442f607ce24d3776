"""Start and stop the embedded FerretDB dev database (tools/devdb) as a real server process."""

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
_LISTENING = re.compile(r"devdb: listening on (mongodb://\S+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DevDB:
    """One dev database process; stop() and start() again keep its port and data."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        if not DEVDB_BIN.exists():
            raise RuntimeError(f"{DEVDB_BIN} is missing: run `make devdb` first")
        self.data_dir = data_dir
        self.port = port or free_port()
        self.uri = f"mongodb://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30.0) -> DevDB:
        self.process = subprocess.Popen(
            [str(DEVDB_BIN), "-listen", f"127.0.0.1:{self.port}", "-data", str(self.data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if _LISTENING.search(line):
                return self
            if not line and self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"devdb did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self.process = None

    def kill(self) -> None:
        """An abrupt outage: SIGKILL, no shutdown."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            if self.process.stdout:
                self.process.stdout.close()
            self.process = None
