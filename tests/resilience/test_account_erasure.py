"""Erasure across services when things break: todo down, its consumer killed, two todos, auth down.

Accounts are deleted through auth's API; what todo holds of them is read from its database.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from pymongo import MongoClient
from tests.resilience.system import HANG, PASSWORD, TODO_DB, WORKERS, System, wait_until
from tests.support.services import todo_server

pytestmark = [pytest.mark.gunicorn, pytest.mark.resilience]

#: The README's bound: erased within this, once both services run (plus a lease, after a kill).
ERASURE_BOUND_SECONDS = 10.0
LEASE_SECONDS = 10.0


def _delete(system: System, username: str) -> None:
    token = system.login(username)["access_token"]
    answer = requests.delete(
        f"{system.auth.url}/auth/me",
        json={"password": PASSWORD},
        headers={"Authorization": f"Bearer {token}"},
        timeout=HANG,
    )
    assert answer.status_code == 204, answer.text


def _account_with_todos(system: System, db: Any, count: int) -> tuple[str, str]:
    """A new account with ``count`` todos (written directly: the test's setup); its name, id."""
    username = system.register()
    claims = requests.get(
        f"{system.auth.url}/auth/me", headers=system.bearer(username), timeout=HANG
    ).json()
    owner = claims["id"]
    now = datetime.now(UTC)
    db.todos.insert_many(
        [{"owner": owner, "title": f"t{n}", "created_at": now, "version": 1} for n in range(count)]
    )
    return username, owner


def _consumer(db: Any) -> dict[str, Any]:
    state: dict[str, Any] = db.event_consumers.find_one() or {}
    return state


def test_todo_down_during_the_deletion_erases_when_it_is_back(system: System) -> None:
    with MongoClient(system.db.uri) as client:
        db = client[TODO_DB]
        username, owner = _account_with_todos(system, db, 3)
        _, other = _account_with_todos(system, db, 3)
        system.todo.stop()
        _delete(system, username)
        system.todo.start()
        wait_until(
            lambda: db.todos.count_documents({"owner": owner}) == 0, seconds=ERASURE_BOUND_SECONDS
        )
        assert db.todos.count_documents({"owner": other}) == 3


def test_a_consumer_killed_mid_batch_skips_nothing_and_repeats_no_effect(system: System) -> None:
    with MongoClient(system.db.uri) as client:
        db = client[TODO_DB]
        accounts = [_account_with_todos(system, db, 300) for _ in range(8)]
        survivor_username, survivor = _account_with_todos(system, db, 5)
        wait_until(lambda: "holder" in _consumer(db))  # a worker holds the lease
        for username, _owner in accounts:
            _delete(system, username)
        # Kill the holder once it has started on the batch (the first account erased).
        wait_until(lambda: db.todos.count_documents({"owner": accounts[0][1]}) == 0)
        holder = int(_consumer(db)["holder"].split(":")[1])
        os.kill(holder, signal.SIGKILL)
        wait_until(
            lambda: all(db.todos.count_documents({"owner": owner}) == 0 for _, owner in accounts),
            seconds=ERASURE_BOUND_SECONDS + LEASE_SECONDS,
        )
        state = _consumer(db)
        assert state["cursor"] == state["head"] == len(accounts)  # every event, none skipped
        assert int(state["holder"].split(":")[1]) != holder  # taken over
        assert db.todos.count_documents({"owner": survivor}) == 5
        assert (
            requests.get(
                f"{system.todo.url}/todos", headers=system.bearer(survivor_username), timeout=HANG
            ).status_code
            == 200
        )


def test_two_todo_instances_consume_each_event_once(system: System, tmp_path: Any) -> None:
    second = todo_server(
        mongo_uri=system.db.uri,
        db_name=TODO_DB,
        directory=tmp_path / "todo-2",
        auth_url=system.auth.url,
        workers=WORKERS,
        LOG_LEVEL="INFO",
    ).start()
    try:
        with MongoClient(system.db.uri) as client:
            db = client[TODO_DB]
            accounts = [_account_with_todos(system, db, 2) for _ in range(5)]
            for username, _owner in accounts:
                _delete(system, username)
            wait_until(
                lambda: all(db.todos.count_documents({"owner": o}) == 0 for _, o in accounts),
                seconds=ERASURE_BOUND_SECONDS,
            )
    finally:
        second.stop()
    # Every account erased exactly once, by whichever of the four workers held the lease.
    erased: Counter[str] = Counter()
    for log in (system.todo_log, second.log_path):
        assert log is not None
        erased.update(re.findall(r"erased account ([0-9a-f]{24})", log.read_text()))
    assert erased == Counter({owner: 1 for _, owner in accounts})


def test_auth_down_todo_keeps_serving_and_catches_up(system: System) -> None:
    with MongoClient(system.db.uri) as client:
        db = client[TODO_DB]
        username, owner = _account_with_todos(system, db, 2)
        reader = system.register()
        headers = system.bearer(reader)
        _delete(system, username)
        system.auth.stop()
        # Without auth, todo serves the tokens it verified keys for (cached) ...
        assert requests.get(f"{system.todo.url}/livez", timeout=HANG).status_code == 200
        assert requests.get(f"{system.todo.url}/readyz", timeout=HANG).status_code == 200
        assert requests.get(
            f"{system.todo.url}/todos", headers=headers, timeout=HANG
        ).status_code in (
            200,
            503,  # once the revocation feed is too stale: closed, by design
        )
        system.auth.start()
        # ... and erases what was deleted meanwhile once auth answers again.
        wait_until(
            lambda: db.todos.count_documents({"owner": owner}) == 0,
            seconds=ERASURE_BOUND_SECONDS + 5,
        )


#: The README's bound for everything of an erased account, writes that raced the deletion
#: included: the revocation feed's (30 s, todo's REVOCATION_MAX_STALENESS_SECONDS) plus leeway,
#: a feed read and a request's budget.
COMPLETE_ERASURE_SECONDS = 50.0


def test_todos_created_across_the_deletion_are_erased_too(system: System, tmp_path: Any) -> None:
    """Third audit, 1: writes with the account's token between its erasure at todo and todo's
    next revocation poll must not survive it. Shipped poll intervals (not the tests' 1 s)."""
    # A todo of its own (its own database: no lease of the system's todo to wait out).
    system.todo.stop()
    shipped_db = f"{TODO_DB}_shipped"
    todo = todo_server(
        mongo_uri=system.db.uri,
        db_name=shipped_db,
        directory=tmp_path / "todo-shipped",
        auth_url=system.auth.url,
        workers=WORKERS,
        LOG_LEVEL="INFO",
        REVOCATION_POLL_SECONDS=5.0,
        EVENT_POLL_SECONDS=2.0,
    ).start()
    try:
        username = system.register()
        token = system.login(username)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        owner = requests.get(f"{system.auth.url}/auth/me", headers=headers, timeout=HANG).json()[
            "id"
        ]
        answers: list[tuple[float, int]] = []
        deleted = threading.Event()
        deleted_at = 0.0

        def create_across_the_deletion() -> None:
            # Until every worker has surely polled the feed since the deletion (5 s) and more:
            # each worker accepts the token until its own next poll.
            while not deleted.is_set() or time.monotonic() < deleted_at + 8:
                answer = requests.post(
                    f"{todo.url}/todos", json={"title": "racing"}, headers=headers, timeout=HANG
                )
                assert answer.status_code in (201, 401), answer.text
                answers.append((time.monotonic(), answer.status_code))
                time.sleep(0.02)

        writer = threading.Thread(target=create_across_the_deletion)
        writer.start()
        wait_until(lambda: len(answers) >= 3)
        _delete(system, username)
        deleted_at = time.monotonic()
        deleted.set()
        writer.join(timeout=60)
        assert answers[-1][1] == 401, "todo never refused the deleted account's token"
        accepted_after = [at for at, status in answers if status == 201 and at > deleted_at]
        # The race: todo accepted the token after the deletion (until each worker's poll).
        assert accepted_after, "no write raced the deletion: the test proves nothing"
        with MongoClient(system.db.uri) as client:
            db = client[shipped_db]
            wait_until(
                lambda: db.todos.count_documents({"owner": owner}) == 0,
                seconds=COMPLETE_ERASURE_SECONDS - (time.monotonic() - deleted_at),
            )
            # And nothing comes back: no write of the account is still on its way.
            time.sleep(max(0.0, COMPLETE_ERASURE_SECONDS - (time.monotonic() - deleted_at)))
            assert db.todos.count_documents({"owner": owner}) == 0
            assert db.idempotency_keys.count_documents({"owner": owner}) == 0
    finally:
        todo.stop()
        system.todo.start()
