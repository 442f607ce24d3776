"""An account deleted at auth: todo erases everything its user left, and nothing else."""

from __future__ import annotations

from flask import Flask
from tests.integration.todo.conftest import Caller
from tests.support.tokens import IssuerServer
from tests.support.waiting import wait_until

from factory_core import mongo
from todo_service.accounts import erase_account

DEADLINE = 10.0


def _counts(app: Flask, owner: str) -> tuple[int, int, int]:
    with app.app_context():
        db = mongo.db
        return (
            db.todos.count_documents({"owner": owner}),
            db.idempotency_keys.count_documents({"owner": owner}),
            db.todo_counts.count_documents({"_id": owner}),
        )


def test_a_deleted_account_s_todos_and_keys_are_erased(
    alice: Caller, bob: Caller, todo_app: Flask, auth_server: IssuerServer
) -> None:
    for n in range(3):
        alice.post("/todos", json={"title": f"a{n}"}, headers={"Idempotency-Key": f"k{n}"})
        bob.post("/todos", json={"title": f"b{n}"}, headers={"Idempotency-Key": f"k{n}"})
    assert _counts(todo_app, alice.sub) == (3, 3, 1)

    auth_server.publish("account.deleted", alice.sub)
    wait_until(lambda: _counts(todo_app, alice.sub) == (0, 0, 0), within=DEADLINE)
    assert _counts(todo_app, bob.sub) == (3, 3, 1)
    assert [todo["title"] for todo in bob.get("/todos").json] == ["b0", "b1", "b2"]  # type: ignore[union-attr]
    checks = todo_app.test_client().get("/readyz").json["checks"]  # type: ignore[index]
    assert checks["events"] == "up to date"


def test_erasing_twice_is_erasing_once(alice: Caller, bob: Caller, todo_app: Flask) -> None:
    alice.create()
    bob.create()
    event = {"id": "e1", "type": "account.deleted", "subject": alice.sub}
    with todo_app.app_context():
        erase_account(event)
        erase_account(event)  # at least once: a handler runs again after a crash
    assert _counts(todo_app, alice.sub) == (0, 0, 0)
    assert _counts(todo_app, bob.sub)[0] == 1
