"""/livez never touches the database; /readyz tells whether it answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.factory_core.sample import create_sample
from tests.support import AppFactory
from tests.support.devdb import DevDB


def test_livez_and_readyz_when_the_database_is_up(client: Any) -> None:
    assert client.get("/livez").json == {"status": "ok", "checks": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ok", "checks": {"mongo": "ok"}}


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
