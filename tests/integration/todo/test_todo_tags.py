"""Tags are stored trimmed and in lower case; migration 0002 brings older todos in line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from flask import Flask
from pymongo import MongoClient
from tests.integration.todo.conftest import Caller
from tests.support import AppFactory

STEP = "0002_tags_normalised"


def test_tags_are_one_whatever_their_case_and_spaces(alice: Caller) -> None:
    todo = alice.create(tags=[" Work ", "HOME"])
    assert todo["tags"] == ["work", "home"]
    found = alice.get("/todos", query_string={"tag": " WORK"})
    assert found.status_code == 200
    assert [item["id"] for item in found.json] == [todo["id"]]  # type: ignore[union-attr]

    once = alice.create(tags=["Work", "work ", "x"])  # unique as sent, one tag as stored
    assert once["tags"] == ["work", "x"]
    blank = alice.create(tags=["ok", " \t"])  # a blank tag says nothing: dropped
    assert blank["tags"] == ["ok"]
    nothing = alice.get("/todos", query_string={"tag": "  "})
    assert nothing.status_code == 200
    assert nothing.json == []


def _stored(owner: str, n: int, tags: list[str]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "_id": ObjectId(),
        "owner": owner,
        "title": f"todo {n}",
        "notes": "",
        "done": False,
        "priority": "normal",
        "priority_rank": 1,
        "tags": tags,
        "due": None,
        "created_at": now,
        "updated_at": now,
        "version": 3,
    }


def test_the_migration_normalises_stored_tags_in_batches(
    todo_factory: AppFactory, mongo_client: MongoClient[Any], db_name: str, issuer: Any
) -> None:
    app: Flask = todo_factory(MIGRATE_AT_START=False)
    cli = app.test_cli_runner()
    assert cli.invoke(args=["migrate", "up"]).exit_code == 0  # a database of today's code
    database = mongo_client[db_name]
    database.migrations.delete_one({"_id": STEP})  # ... as it was before this step
    owner = str(ObjectId())
    old = [_stored(owner, n, [" Work", "work", "HOME "]) for n in range(1200)]
    fine = [_stored(owner, n, ["done"]) for n in range(10)]
    database.todos.insert_many([*old, *fine])

    behind = app.test_client().get("/readyz")
    assert behind.status_code == 503
    assert STEP in behind.get_json()["detail"]
    migrated = cli.invoke(args=["migrate", "up"])
    assert migrated.exit_code == 0, migrated.output
    assert f"migrated todo_service: {STEP}" in migrated.output

    assert database.todos.count_documents({"tags": ["work", "home"], "version": 4}) == 1200
    assert database.todos.count_documents({"tags": ["done"], "version": 3}) == 10  # untouched
    assert app.test_client().get("/readyz").status_code == 200
    # The API finds them by the normalised tag.
    alice = Caller(app.test_client(), issuer, sub=owner)
    page = alice.get("/todos", query_string={"tag": "Work", "page_size": 100})
    assert page.status_code == 200
    assert len(page.json) == 100  # type: ignore[arg-type]
    refused = cli.invoke(args=["migrate", "down"])
    assert refused.exit_code == 1
    assert f"{STEP} has no down()" in refused.output
