"""The system under test and the helpers the resilience tests share."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from tests.support import waiting
from tests.support.accounts import Account, LiveHttp
from tests.support.devdb import DevDB
from tests.support.gunicorn import GunicornServer

PASSWORD = "resilience test password 42"
#: Far below gunicorn's 30 s worker timeout: a request that takes this long is hung.
HANG = 10.0
WORKERS = 2
AUTH_DB = "resilience_auth"
TODO_DB = "resilience_todo"


@dataclass
class System:
    db: DevDB
    auth: GunicornServer
    todo: GunicornServer
    auth_log: Path
    todo_log: Path

    def register(self, username: str | None = None) -> str:
        """A new account; its username."""
        account = Account(self._http(), **({"username": username} if username else {}))
        account.password = PASSWORD
        return account.register().username

    def login(self, username: str) -> dict[str, Any]:
        return Account(self._http(), username, PASSWORD).login().tokens

    def bearer(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login(username)['access_token']}"}

    def _http(self) -> LiveHttp:
        return LiveHttp(self.auth.url, timeout=HANG)


def wait_until(condition: Callable[[], bool], *, seconds: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail (not hang) after ``seconds``."""
    waiting.wait_until(condition, within=seconds, interval=0.2)


def ready(server: GunicornServer) -> bool:
    try:
        return requests.get(f"{server.url}/readyz", timeout=HANG).status_code == 200
    except requests.RequestException:
        return False


def worker_count_is(server: GunicornServer, count: int) -> Callable[[], bool]:
    return lambda: len(server.worker_pids()) == count


def log_noise(path: Path) -> list[str]:
    """Lines of a gunicorn log that are not INFO: warnings, errors, tracebacks, timeouts."""
    noisy = []
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        if line.startswith("{"):
            level = json.loads(line).get("level")
            if level not in ("DEBUG", "INFO"):
                noisy.append(line)
        elif "[INFO]" not in line:
            noisy.append(line)
    return noisy
