"""/livez never touches the database; /readyz tells whether it answers."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

from tests.support import AppFactory
from tests.support.devdb import DevDB
from tests.support.sample import create_sample


def test_livez_and_readyz_when_the_database_is_up(client: Any) -> None:
    assert client.get("/livez").json == {"status": "ok", "checks": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ok", "checks": {"mongo": "ok", "migrations": "0001_indexes"}}


def test_outage_and_recovery_without_restart(make_app: AppFactory, tmp_path: Path) -> None:
    devdb = DevDB(tmp_path / "db").start()
    try:
        app = make_app(create_sample, MONGO_URI=devdb.uri, MONGO_SERVER_SELECTION_TIMEOUT_MS=500)
        client = app.test_client()
        assert client.get("/readyz").status_code == 200

        devdb.kill()
        assert client.get("/livez").status_code == 200
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "2"
        assert down.json["code"] == "database_unavailable"

        devdb.start()
        assert client.get("/readyz").status_code == 200
        assert client.post("/items", json={"name": "after"}).status_code == 201
    finally:
        devdb.stop()


class _HangingServer:
    """Accepts TCP connections and never answers: a database that hangs, not one that is down."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


def test_readyz_answers_within_its_own_budget_when_the_database_hangs(
    make_app: AppFactory,
) -> None:
    hanging = _HangingServer()
    try:
        # Every pymongo timeout of the app is a minute: only the readiness budget can answer.
        app = make_app(
            create_sample,
            MONGO_URI=f"mongodb://127.0.0.1:{hanging.port}/",
            MONGO_SERVER_SELECTION_TIMEOUT_MS=60_000,
            MONGO_CONNECT_TIMEOUT_MS=60_000,
            MONGO_TIMEOUT_MS=60_000,
            READINESS_TIMEOUT_SECONDS=0.5,
        )
        answers: list[Any] = []
        probe = threading.Thread(target=lambda: answers.append(app.test_client().get("/readyz")))
        probe.start()
        probe.join(timeout=15)  # far above the budget, far below every other timeout
        assert answers, "/readyz did not answer within its budget"
        assert answers[0].status_code == 503
        assert answers[0].json["code"] == "database_unavailable"
        assert answers[0].headers["Retry-After"] == "2"
        assert app.test_client().get("/livez").status_code == 200
    finally:
        hanging.close()
