"""A whole system per test: its own dev database, auth and todo under gunicorn, production config.

Each test owns its database process, so stopping, killing and restarting it disturbs no other
test. Run by `make resilience` (marker `resilience`); `make test` leaves these out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.stack import Secrets, auth_env, todo_env
from tests.resilience.system import WORKERS, System
from tests.support.devdb import DevDB
from tests.support.gunicorn import GunicornServer


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    """auth and todo in production configuration on a dev database of this test's own."""
    for name in ("devdb", "auth", "todo"):
        (tmp_path / name).mkdir()
    keys = Secrets(tmp_path)
    db = DevDB(tmp_path / "devdb").start()
    auth_log, todo_log = tmp_path / "auth.log", tmp_path / "todo.log"
    auth = GunicornServer(
        "auth_service.wsgi:app",
        auth_env(db, keys, tmp_path / "auth"),
        workers=WORKERS,
        log_path=auth_log,
    )
    todo = GunicornServer(
        "todo_service.wsgi:app",
        {
            **todo_env(db, keys, tmp_path / "todo", auth.url),
            # Poll revocations often, so a test can see the feed recover quickly.
            "TODO_REVOCATION_POLL_SECONDS": "1",
        },
        workers=WORKERS,
        log_path=todo_log,
    )
    try:
        auth.start()
        todo.start()
        yield System(db, auth, todo, auth_log, todo_log)
    finally:
        todo.stop()
        auth.stop()
        db.stop()
