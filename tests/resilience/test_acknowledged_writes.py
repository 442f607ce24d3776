"""No acknowledged write is lost or duplicated, across a worker kill and a database restart.

Clients behave as the API asks them to: each intended todo has its own Idempotency-Key, and a
POST that failed (dropped connection, 503, 409 "in progress") is retried with the same key and
body until it is acknowledged with a 201.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from pymongo import MongoClient
from tests.resilience.system import (
    HANG,
    TODO_DB,
    WORKERS,
    System,
    ready,
    wait_until,
    worker_count_is,
)

pytestmark = [pytest.mark.gunicorn, pytest.mark.resilience]

TODOS = 48
#: A retry waits out at most this long per todo: a dead first attempt's lease is 30 s.
GIVE_UP_AFTER = 120.0


@dataclass(frozen=True)
class Acknowledged:
    title: str
    todo_id: str
    attempts: int


class Writer:
    """Posts each intended todo until it is acknowledged, retrying with its Idempotency-Key."""

    def __init__(self, system: System, headers: dict[str, str]) -> None:
        self.url = f"{system.todo.url}/todos"
        self.headers = headers
        self.acknowledged: list[Acknowledged] = []
        self.retried_statuses: Counter[str] = Counter()
        self.lock = threading.Lock()

    def write(self, number: int) -> None:
        title = f"acknowledged {number}"
        headers = {**self.headers, "Idempotency-Key": str(uuid.uuid4())}
        deadline = time.monotonic() + GIVE_UP_AFTER
        attempts = 0
        while time.monotonic() < deadline:
            attempts += 1
            try:
                answer = requests.post(
                    self.url, json={"title": title}, headers=headers, timeout=HANG
                )
            except requests.RequestException as error:
                self._retry(type(error).__name__, None)
                continue
            if answer.status_code == 201:
                assert answer.json()["title"] == title
                with self.lock:
                    self.acknowledged.append(Acknowledged(title, answer.json()["id"], attempts))
                return
            # Anything but "try again later" is a bug, not an outage.
            assert answer.status_code in (409, 503), answer.text
            self._retry(str(answer.status_code), answer.headers.get("Retry-After"))
        pytest.fail(f"{title} was never acknowledged")

    def _retry(self, reason: str, retry_after: str | None) -> None:
        with self.lock:
            self.retried_statuses[reason] += 1
        time.sleep(min(float(retry_after or 0.5), 2.0))

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def test_every_acknowledged_todo_survives_once(system: System) -> None:
    headers = system.bearer(system.register())
    writer = Writer(system, headers)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(writer.write, number) for number in range(TODOS)]

        wait_until(lambda: writer.count() >= TODOS // 4)
        victim = system.todo.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: victim not in system.todo.worker_pids())
        wait_until(worker_count_is(system.todo, WORKERS))

        wait_until(lambda: writer.count() >= TODOS // 2)
        system.db.kill()
        time.sleep(2)
        system.db.start()
        wait_until(lambda: ready(system.todo))

        for future in futures:
            future.result()  # re-raises a client's failure

    assert writer.count() == TODOS
    titles = Counter(ack.title for ack in writer.acknowledged)
    assert all(count == 1 for count in titles.values())
    # Every acknowledged todo is there, through the API and in the database, exactly once.
    for ack in writer.acknowledged:
        answer = requests.get(
            f"{system.todo.url}/todos/{ack.todo_id}", headers=headers, timeout=HANG
        )
        assert answer.status_code == 200, ack
        assert answer.json()["title"] == ack.title
    client: MongoClient[dict[str, object]] = MongoClient(system.db.uri)
    try:
        stored = list(
            client[TODO_DB]["todos"].find({"title": {"$regex": "^acknowledged "}}, {"title": 1})
        )
    finally:
        client.close()
    assert len(stored) == TODOS, "a todo was duplicated or lost"
    assert {str(todo["_id"]) for todo in stored} == {ack.todo_id for ack in writer.acknowledged}
    # The faults happened while clients were writing: some requests had to be retried.
    assert sum(writer.retried_statuses.values()) > 0, writer.retried_statuses
