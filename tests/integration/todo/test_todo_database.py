"""The database: declared indexes, and an outage that is a fast 503 the service recovers from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from pymongo import MongoClient
from tests.integration.todo.conftest import Caller
from tests.support import AppFactory
from tests.support.devdb import DevDB
from tests.support.tokens import IssuerServer, TokenIssuer

from factory_core import mongo
from todo_service import create_app
from todo_service.repositories.todos import TITLE_COLLATION


def test_indexes_are_declared_and_used(alice: Caller, todo_app: Flask) -> None:
    alice.create()
    with todo_app.app_context():
        todos = mongo.db.todos
        indexes = todos.index_information()
        keys = {name: list(index["key"]) for name, index in indexes.items()}
        collations = {name: index.get("collation") for name, index in indexes.items()}
        idempotency = mongo.db.idempotency_keys.index_information()
        plan = (
            todos.find({"owner": alice.sub})
            .sort([("created_at", 1), ("_id", 1)])
            .limit(20)
            .explain()
        )
        title_plan = (
            todos.find({"owner": alice.sub}, collation=TITLE_COLLATION)
            .sort([("title", 1), ("_id", 1)])
            .limit(20)
            .explain()
        )
    assert keys["owner_created_at"] == [("owner", 1), ("created_at", 1), ("_id", 1)]
    assert keys["owner_due"] == [("owner", 1), ("due", 1), ("_id", 1)]
    assert keys["owner_priority"] == [("owner", 1), ("priority_rank", 1), ("_id", 1)]
    assert keys["owner_title_collated"] == [("owner", 1), ("title", 1), ("_id", 1)]
    assert collations["owner_title_collated"]["strength"] == 2
    assert keys["owner_tags"] == [("owner", 1), ("tags", 1)]
    assert idempotency["owner_key"]["unique"] is True
    assert list(idempotency["expires_at_ttl"]["key"]) == [("expires_at", 1)]
    # Every list query walks its declared index, never the whole collection.
    for query_plan, index in ((plan, "owner_created_at"), (title_plan, "owner_title_collated")):
        winning = str(query_plan["queryPlanner"]["winningPlan"])
        assert index in winning
        assert "COLLSCAN" not in winning


@pytest.fixture
def own_devdb(tmp_path: Path) -> Iterator[DevDB]:
    """A dev database of this test's own, which it may stop (not the session's)."""
    devdb = DevDB(tmp_path / "devdb").start()
    yield devdb
    devdb.stop()


def test_database_down_is_503_with_retry_after_then_recovers(
    make_app: AppFactory, own_devdb: DevDB, issuer: TokenIssuer
) -> None:
    with IssuerServer(issuer) as auth:
        app = make_app(
            create_app, MONGO_URI=own_devdb.uri, JWKS_URL=auth.jwks_url, REVOCATION_FEED_URL=""
        )
        alice = Caller(app.test_client(), issuer)
        todo = alice.create(title="survives")

        own_devdb.stop()
        for response in (alice.get("/todos"), alice.post("/todos", json={"title": "t"})):
            assert response.status_code == 503
            assert response.mimetype == "application/problem+json"
            assert response.json is not None
            assert response.json["code"] == "database_unavailable"
            assert response.headers["Retry-After"] == "2"
        client = app.test_client()
        assert client.get("/livez").status_code == 200
        assert client.get("/readyz").status_code == 503

        own_devdb.start()  # same port and data; the app is not recreated
        assert client.get("/readyz").status_code == 200
        assert alice.get(f"/todos/{todo['id']}").json == todo
        assert alice.post("/todos", json={"title": "after"}).status_code == 201
    with MongoClient(own_devdb.uri) as direct:
        assert direct[app.config["MONGO_DB_NAME"]].todos.count_documents({}) == 2
