"""Sixty seconds of mixed traffic on both services: no 5xx, nothing but INFO in the logs."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from tests.resilience.system import HANG, System, log_noise

pytestmark = [pytest.mark.gunicorn, pytest.mark.resilience]

SOAK_SECONDS = 60.0
#: What well-behaved clients get: anything else (a 4xx included) is a failure of the soak.
EXPECTED = {200, 201, 204, 304}


class Soak:
    """Clients going through whole workflows until the time is up, counting every answer."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.statuses: Counter[int] = Counter()
        self.unexpected: list[str] = []
        self.lock = threading.Lock()
        self.deadline = time.monotonic() + SOAK_SECONDS

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def call(self, method: str, url: str, **kwargs: object) -> requests.Response:
        try:
            answer = requests.request(method, url, timeout=HANG, **kwargs)  # type: ignore[arg-type]
        except requests.RequestException as error:
            with self.lock:
                self.unexpected.append(f"{method} {url}: {error!r}")
            raise
        with self.lock:
            self.statuses[answer.status_code] += 1
            if answer.status_code not in EXPECTED:
                self.unexpected.append(f"{method} {url}: {answer.status_code} {answer.text[:200]}")
        return answer

    def todo_writer(self) -> None:
        """Create, read, conditionally update, list and delete todos."""
        username = self.system.register()
        headers = self.system.bearer(username)
        url = f"{self.system.todo.url}/todos"
        number = 0
        while self.running():
            number += 1
            created = self.call("POST", url, json={"title": f"soak {number}"}, headers=headers)
            todo_url = f"{url}/{created.json()['id']}"
            etag = created.headers["ETag"]
            self.call("GET", todo_url, headers={**headers, "If-None-Match": etag})
            patched = self.call(
                "PATCH", todo_url, json={"done": True}, headers={**headers, "If-Match": etag}
            )
            self.call("GET", f"{url}?page=1&page_size=20", headers=headers)
            if number % 2:
                self.call(
                    "DELETE", todo_url, headers={**headers, "If-Match": patched.headers["ETag"]}
                )

    def todo_reader(self) -> None:
        """Page through a list and read todos, with and without a cached ETag."""
        headers = self.system.bearer(self.system.register())
        url = f"{self.system.todo.url}/todos"
        todos = [
            self.call("POST", url, json={"title": f"read {n}"}, headers=headers) for n in range(25)
        ]
        while self.running():
            for page in (1, 2):
                self.call("GET", f"{url}?page={page}&page_size=20", headers=headers)
            for created in todos[:5]:
                todo_url = f"{url}/{created.json()['id']}"
                self.call("GET", todo_url, headers=headers)
                self.call(
                    "GET", todo_url, headers={**headers, "If-None-Match": created.headers["ETag"]}
                )

    def sessions(self) -> None:
        """Log in, rotate the refresh token a few times, read the account, log out."""
        username = self.system.register()
        auth = self.system.auth.url
        while self.running():
            pair = self.call(
                "POST",
                f"{auth}/auth/login",
                json={"username": username, "password": "resilience test password 42"},
            ).json()
            for _ in range(5):
                pair = self.call(
                    "POST",
                    f"{auth}/auth/refresh",
                    headers={"Authorization": f"Bearer {pair['refresh_token']}"},
                ).json()
                bearer = {"Authorization": f"Bearer {pair['access_token']}"}
                self.call("GET", f"{auth}/auth/me", headers=bearer)
            self.call("POST", f"{auth}/auth/logout", headers=bearer)


def test_sixty_seconds_of_mixed_load(system: System) -> None:
    soak = Soak(system)
    clients: list[Callable[[], None]] = [soak.todo_writer, soak.todo_reader, soak.sessions]
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        for future in [pool.submit(client) for client in clients]:
            future.result()

    assert soak.unexpected == []
    assert not any(status >= 500 for status in soak.statuses)
    assert sum(soak.statuses.values()) >= 200, soak.statuses
    assert {200, 201, 204, 304} <= set(soak.statuses), soak.statuses
    assert log_noise(system.todo_log) == []
    assert log_noise(system.auth_log) == []
