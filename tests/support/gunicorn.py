"""Run a service under a real gunicorn master with worker processes, as production does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import requests

from tests.support.devdb import ROOT, free_port


class GunicornServer:
    """``gunicorn -c python:factory_core.runtime.gunicorn_config <app>`` on a free loopback port."""

    def __init__(
        self,
        app: str,
        env: Mapping[str, str],
        *,
        workers: int = 2,
        log_path: Path | None = None,
        port: int | None = None,
    ) -> None:
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = {**os.environ, **env, "WEB_CONCURRENCY": str(workers)}
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def command(self) -> list[str]:
        """The server's command line."""
        return [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "python:factory_core.runtime.gunicorn_config",
            "--bind",
            f"127.0.0.1:{self.port}",
            self.app,
        ]

    def start(self, timeout: float = 30.0) -> GunicornServer:
        self._log = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        log = self._log or subprocess.DEVNULL
        self.process = subprocess.Popen(
            self.command(),
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        try:
            self._wait_until_live(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_live(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited with {self.process.returncode}")
            try:
                live = requests.get(f"{self.url}/livez", timeout=2).status_code == 200
            except requests.RequestException:
                live = False  # not listening yet, or a worker still booting
            # One worker answering is not enough: the master may still be forking the others.
            if live and len(self.worker_pids()) == self.workers:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.app} did not answer /livez within {timeout}s")

    def worker_pids(self) -> list[int]:
        """The current worker processes (children of the master)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
