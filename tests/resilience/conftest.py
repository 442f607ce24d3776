"""A whole system per test: its own dev database, auth and todo under gunicorn, production config.

Each test owns its database process, so stopping, killing and restarting it disturbs no other
test. Run by `make resilience` (marker `resilience`); `make test` leaves these out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.resilience.system import AUTH_DB, TODO_DB, WORKERS, System
from tests.support.devdb import DevDB
from tests.support.services import auth_server, todo_server


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    """auth and todo in production configuration on a dev database of this test's own."""
    db = DevDB(tmp_path / "devdb").start()
    # The services' own log level (INFO): the soak reads their logs for anything louder.
    auth = auth_server(
        mongo_uri=db.uri,
        db_name=AUTH_DB,
        directory=tmp_path / "auth",
        workers=WORKERS,
        LOG_LEVEL="INFO",
        # On (production refuses them off), but out of the way of the soak's many logins.
        **{
            f"{action}_RATE_LIMIT_PER_{scope}": "100000 per minute"
            for action in ("LOGIN", "REGISTER")
            for scope in ("USERNAME", "ADDRESS")
        },
    )
    try:
        auth.start()
        todo = todo_server(
            mongo_uri=db.uri,
            db_name=TODO_DB,
            directory=tmp_path / "todo",
            auth_url=auth.url,
            workers=WORKERS,
            LOG_LEVEL="INFO",
        ).start()
        try:
            assert auth.log_path is not None
            assert todo.log_path is not None
            yield System(db, auth, todo, auth.log_path, todo.log_path)
        finally:
            todo.stop()
    finally:
        auth.stop()
        db.stop()
