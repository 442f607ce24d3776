"""BOLA: another user's todo, a malformed id and a deleted id all look exactly alike."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from tests.integration.todo.conftest import Caller


def _comparable(response: Any) -> dict[str, Any]:
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = dict(response.json)
    body.pop("request_id")
    body.pop("instance")
    return body


def test_other_users_malformed_and_deleted_ids_give_identical_404s(
    alice: Caller, bob: Caller
) -> None:
    todo = alice.create(title="alice's")
    path = f"/todos/{todo['id']}"
    deleted = bob.create(title="bob's, deleted")
    assert bob.delete(f"/todos/{deleted['id']}").status_code == 204

    etag = {"If-Match": f'"{todo["id"]}.1"'}
    targets = [path, f"/todos/{deleted['id']}", "/todos/not-an-id", f"/todos/{ObjectId()}"]
    targets += [f"/todos/{todo['id'].upper()}", "/todos/" + "a" * 12]
    answers = []
    for target in targets:
        answers.append(_comparable(bob.get(target)))
        answers.append(_comparable(bob.patch(target, json={"title": "mine"}, headers=etag)))
        answers.append(_comparable(bob.put(target, json={"title": "mine"}, headers=etag)))
        answers.append(_comparable(bob.delete(target)))
        answers.append(_comparable(bob.delete(target, headers=etag)))
    assert answers == [answers[0]] * len(answers)
    assert answers[0] == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No todo with this id.",
        "code": "todo_not_found",
    }
    assert alice.get(path).json == todo


def test_same_path_before_and_after_delete_is_byte_for_byte_alike(
    alice: Caller, bob: Caller
) -> None:
    todo = alice.create()
    path = f"/todos/{todo['id']}"
    headers = {"X-Request-ID": "fixed-id"}
    not_mine = bob.get(path, headers=headers)
    assert alice.delete(path).status_code == 204
    gone = bob.get(path, headers=headers)
    assert (not_mine.status_code, not_mine.data) == (gone.status_code, gone.data)
    assert not_mine.headers["Content-Type"] == gone.headers["Content-Type"]


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_other_users_todo_is_unchanged_by_writes_without_if_match(
    alice: Caller, bob: Caller, method: str
) -> None:
    todo = alice.create()
    path = f"/todos/{todo['id']}"
    # 428 comes before the lookup, so it says nothing about whether the todo exists.
    mine = bob.create()
    for target in (path, f"/todos/{mine['id']}"):
        assert bob.request(method, target, json={"title": "x"}).status_code == 428
    assert (
        bob.request(method, path, json={"title": "x"}, headers={"If-Match": "*"}).status_code == 404
    )
    assert alice.get(path).json == todo
