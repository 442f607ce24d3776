"""The MongoDB extension: migrated on first use, one client per process."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

import pytest
from flask import Flask
from pymongo import MongoClient
from tests.support import AppFactory
from tests.support.sample import create_sample

from factory_core import mongo


def test_migrations_run_on_first_use_outside_production(
    sample_app: Flask, mongo_client: MongoClient[Any], db_name: str
) -> None:
    with sample_app.app_context():
        mongo.db.items.insert_one({"name": "a"})
    database = mongo_client[db_name]
    assert "name_1" in database.items.index_information()
    ttl = database.sessions.index_information()["expires_at_ttl"]  # factory_core.expiring
    assert ttl["key"] == [("expires_at", 1)]
    assert ttl["expireAfterSeconds"] == 0
    assert [step["_id"] for step in database.migrations.find()] == ["0001_indexes"]


def _child_client_id(app: Flask, queue: Any) -> None:
    queue.put((os.getpid(), id(mongo.client(app))))


def test_one_client_per_process_created_after_fork(sample_app: Flask) -> None:
    parent = mongo.client(sample_app)
    assert mongo.client(sample_app) is parent
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_client_id, args=(sample_app, queue))
    child.start()
    child_pid, child_client = queue.get(timeout=10)
    child.join(timeout=10)
    assert child_pid != os.getpid()
    assert child_client != id(parent)
    assert mongo.client(sample_app) is parent


def _child_collection(app: Flask, parent: Any, queue: Any) -> None:
    with app.app_context():
        items = mongo.collection("items")
        queue.put((items is parent, items.database.client is mongo.client(), items.find_one()))


def test_collections_are_made_once_per_process_and_client(sample_app: Flask) -> None:
    with sample_app.app_context():
        items = mongo.collection("items")
        assert mongo.collection("items") is items
        assert items.database.client is mongo.client()
        items.insert_one({"name": "kept"})
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_child_collection, args=(sample_app, items, queue))
        child.start()
        same, own_client, found = queue.get(timeout=10)
        child.join(timeout=10)
        assert (same, own_client, found["name"]) == (False, True, "kept")
        assert mongo.collection("items") is items
        mongo.close()
        reopened = mongo.collection("items")
        assert reopened is not items
        assert reopened.database.client is mongo.client()
        assert reopened.find_one({"name": "kept"}) is not None


def test_each_app_has_its_own_client(make_app: AppFactory) -> None:
    first, second = make_app(create_sample), make_app(create_sample)
    assert mongo.client(first) is not mongo.client(second)


def test_a_transaction_commits_its_writes_together_or_none(
    sample_app: Flask, mongo_client: MongoClient[Any], db_name: str
) -> None:
    """Repositories write through ``mongo.collection`` with no session argument; inside
    ``mongo.transaction`` those writes (on collections with the app's majority write concern)
    commit together, and an exception leaves none of them."""
    database = mongo_client[db_name]

    def both(name: str) -> str:
        mongo.collection("items").insert_one({"name": name})
        mongo.collection("audit").insert_one({"about": name})
        return name

    def both_then_fail() -> None:
        both("lost")
        raise RuntimeError("the change is refused after its writes")

    def nested_then_fail() -> None:
        mongo.transaction(lambda: both("nested"))  # joins the outer transaction
        raise RuntimeError("the outer change is refused")

    with sample_app.app_context():
        assert mongo.collection("items").write_concern.document == {"w": "majority"}
        assert mongo.transaction(lambda: both("kept")) == "kept"
        with pytest.raises(RuntimeError):
            mongo.transaction(both_then_fail)
        with pytest.raises(RuntimeError):
            mongo.transaction(nested_then_fail)
        # Outside a transaction, the collection keeps its write concern.
        assert mongo.collection("items").write_concern.document == {"w": "majority"}

    assert [each["name"] for each in database.items.find()] == ["kept"]
    assert [each["about"] for each in database.audit.find()] == ["kept"]


def test_after_commit_runs_once_committed_and_never_after_an_abort(
    sample_app: Flask, mongo_client: MongoClient[Any], db_name: str
) -> None:
    # What another thread is told (wake the mail sender) must come once it can see the writes.
    database = mongo_client[db_name]
    seen: list[tuple[str, int]] = []

    def write(name: str) -> None:
        mongo.collection("items").insert_one({"name": name})
        mongo.after_commit(lambda: seen.append((name, database.items.count_documents({}))))

    def write_then_fail() -> None:
        write("lost")
        raise RuntimeError("refused")

    with sample_app.app_context():
        mongo.transaction(lambda: (write("kept"), seen.append(("inside", len(seen)))))
        with pytest.raises(RuntimeError):
            mongo.transaction(write_then_fail)
        write("outside")  # no transaction: at once
    assert seen == [("inside", 0), ("kept", 1), ("outside", 2)]
