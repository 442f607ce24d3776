"""Idempotency-Key on POST /todos: one key, one todo; retries replay the first response."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from flask import Flask
from pymongo.errors import AutoReconnect
from tests.integration.todo.conftest import Caller
from tests.support import AppFactory
from tests.support.tokens import TokenIssuer

from factory_core import mongo, utc_now
from todo_service.idempotency import request_fingerprint
from todo_service.repositories import TodoRepository
from todo_service.repositories.idempotency import LEASE


def _count(app: Flask) -> int:
    with app.app_context():
        return mongo.db.todos.count_documents({})


def test_retry_with_same_key_and_body_replays_and_creates_nothing(
    alice: Caller, todo_app: Flask
) -> None:
    headers = {"Idempotency-Key": "k-1"}
    first = alice.post("/todos", json={"title": "once", "tags": ["a"]}, headers=headers)
    assert first.status_code == 201
    # Same body, other key order and spacing: the same request.
    retry = alice.post(
        "/todos",
        data='{ "tags": ["a"],  "title": "once" }',
        content_type="application/json",
        headers=headers,
    )
    assert retry.status_code == 201
    assert retry.data == first.data
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(todo_app) == 1


def test_same_key_with_another_body_is_422(alice: Caller, todo_app: Flask) -> None:
    headers = {"Idempotency-Key": "k-2"}
    assert alice.post("/todos", json={"title": "one"}, headers=headers).status_code == 201
    response = alice.post("/todos", json={"title": "two"}, headers=headers)
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["code"] == "idempotency_key_reused"
    assert _count(todo_app) == 1


def test_keys_are_scoped_per_user(alice: Caller, bob: Caller, todo_app: Flask) -> None:
    headers = {"Idempotency-Key": "shared"}
    mine = alice.post("/todos", json={"title": "t"}, headers=headers)
    theirs = bob.post("/todos", json={"title": "t"}, headers=headers)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json != theirs.json
    assert "Idempotent-Replayed" not in theirs.headers
    assert [t["title"] for t in bob.get("/todos").json] == ["t"]  # type: ignore[union-attr]
    # Even with a different body: bob's key is his own.
    other = bob.post("/todos", json={"title": "x"}, headers={"Idempotency-Key": "k-only-alice"})
    assert other.status_code == 201
    assert _count(todo_app) == 3


def test_keys_expire(todo_factory: AppFactory, issuer: TokenIssuer) -> None:
    app = todo_factory(IDEMPOTENCY_KEY_TTL_SECONDS=1)
    caller = Caller(app.test_client(), issuer)
    headers = {"Idempotency-Key": "short-lived"}
    first = caller.post("/todos", json={"title": "t"}, headers=headers)
    time.sleep(1.2)
    again = caller.post("/todos", json={"title": "t"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json != first.json
    assert _count(app) == 2


def test_a_failed_first_request_frees_its_key(alice: Caller, todo_app: Flask) -> None:
    # A body that fails validation never reaches the key store.
    headers = {"Idempotency-Key": "k-3"}
    assert alice.post("/todos", json={"title": ""}, headers=headers).status_code == 422
    assert alice.post("/todos", json={"title": "ok"}, headers=headers).status_code == 201


def test_an_abandoned_first_request_is_finished_with_its_reserved_id(
    alice: Caller, todo_app: Flask
) -> None:
    """A worker killed mid-request leaves a pending key; once its lease ends, a retry takes over."""
    reserved = ObjectId()
    now = utc_now()
    with todo_app.app_context():
        mongo.db.idempotency_keys.insert_one(
            {
                "owner": alice.sub,
                "key": "k-4",
                "fingerprint": request_fingerprint({"title": "t"}),
                "resource_id": reserved,
                "state": "pending",
                "holder": "a worker killed since",
                "lease_until": now - timedelta(seconds=5),  # ran out (beyond the clock skew)
                "created_at": now - LEASE,
                "expires_at": now + timedelta(hours=1),
            }
        )
    response = alice.post("/todos", json={"title": "t"}, headers={"Idempotency-Key": "k-4"})
    assert response.status_code == 201
    assert response.json is not None
    assert response.json["id"] == str(reserved)
    replay = alice.post("/todos", json={"title": "t"}, headers={"Idempotency-Key": "k-4"})
    assert replay.data == response.data
    assert _count(todo_app) == 1


def test_a_pending_first_request_makes_a_retry_wait_then_409(
    todo_factory: AppFactory, issuer: TokenIssuer
) -> None:
    app = todo_factory(IDEMPOTENCY_WAIT_SECONDS=0.3)
    caller = Caller(app.test_client(), issuer)
    now = utc_now()
    with app.app_context():
        mongo.db.idempotency_keys.insert_one(
            {
                "owner": caller.sub,
                "key": "busy",
                "fingerprint": request_fingerprint({"title": "t"}),
                "resource_id": ObjectId(),
                "state": "pending",
                "holder": "a first request, still running",
                "lease_until": now + LEASE,
                "created_at": now,
                "expires_at": now + timedelta(hours=1),
            }
        )
    response = caller.post("/todos", json={"title": "t"}, headers={"Idempotency-Key": "busy"})
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    assert response.json is not None
    assert response.json["code"] == "idempotency_key_in_progress"
    assert _count(app) == 0


def test_a_retry_after_a_lost_acknowledgement_finishes_the_same_todo(
    alice: Caller, todo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The insert is applied, then the connection drops (503): the retry must not duplicate it."""
    create = TodoRepository.create

    def applied_then_connection_lost(self: TodoRepository, **kwargs: Any) -> Any:
        create(self, **kwargs)
        raise AutoReconnect("connection closed after the insert")

    headers = {"Idempotency-Key": "k-lost-ack"}
    with monkeypatch.context() as patch:
        patch.setattr(TodoRepository, "create", applied_then_connection_lost)
        first = alice.post("/todos", json={"title": "once"}, headers=headers)
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "2"

    retry = alice.post("/todos", json={"title": "once"}, headers=headers)
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    replay = alice.post("/todos", json={"title": "once"}, headers=headers)
    assert replay.data == retry.data
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert _count(todo_app) == 1
    assert [todo["title"] for todo in alice.get("/todos").json] == ["once"]  # type: ignore[union-attr]
