"""Create, read, update, delete: status codes, headers (Location, ETag) and bodies."""

from __future__ import annotations

from bson import ObjectId
from flask import Flask
from tests.integration.todo.conftest import Caller
from tests.support import AppFactory
from tests.support.problems import assert_problem
from tests.support.tokens import TokenIssuer

from factory_core import mongo


def test_create_returns_201_with_location_etag_and_the_todo(alice: Caller) -> None:
    response = alice.post(
        "/todos",
        json={
            "title": "Water the plants",
            "notes": "the big ones",
            "due": "2030-01-02T03:04:05.678901+02:00",
            "priority": "high",
            "tags": ["home", "garden"],
        },
    )
    assert response.status_code == 201
    body = response.json
    assert body is not None
    assert response.headers["Location"] == f"/todos/{body['id']}"
    assert response.headers["ETag"] == f'"{body["id"]}.1"'
    assert body == {
        "id": body["id"],
        "title": "Water the plants",
        "notes": "the big ones",
        "done": False,
        "due": "2030-01-02T01:04:05.678000+00:00",
        "priority": "high",
        "tags": ["home", "garden"],
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
        "version": 1,
        "etag": f'"{body["id"]}.1"',
    }
    fetched = alice.get(response.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.json == body
    assert fetched.headers["ETag"] == response.headers["ETag"]


def test_get_with_if_none_match_is_304_until_the_todo_changes(alice: Caller) -> None:
    todo = alice.create()
    path = f"/todos/{todo['id']}"
    etag = alice.get(path).headers["ETag"]
    not_modified = alice.get(path, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.data == b""
    assert not_modified.headers["ETag"] == etag
    # Weak comparison for If-None-Match: W/"..." names the same representation.
    assert alice.get(path, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    assert alice.get(path, headers={"If-None-Match": '"other"'}).status_code == 200

    alice.patch(path, json={"done": True}, headers={"If-Match": etag})
    changed = alice.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json is not None
    assert changed.json["done"] is True


def test_patch_without_if_match_is_428_and_changes_nothing(alice: Caller) -> None:
    todo = alice.create(title="keep me")
    response = alice.patch(f"/todos/{todo['id']}", json={"title": "changed"})
    assert response.status_code == 428
    assert response.mimetype == "application/problem+json"
    assert response.json is not None
    assert response.json["code"] == "if_match_required"
    assert alice.get(f"/todos/{todo['id']}").json == todo


def test_put_without_if_match_is_428(alice: Caller) -> None:
    todo = alice.create()
    response = alice.put(f"/todos/{todo['id']}", json={"title": "changed"})
    assert response.status_code == 428
    assert response.json is not None
    assert response.json["code"] == "if_match_required"


def test_patch_with_stale_if_match_is_412_and_changes_nothing(alice: Caller) -> None:
    todo = alice.create(title="v1")
    path = f"/todos/{todo['id']}"
    stale = alice.get(path).headers["ETag"]
    assert alice.patch(path, json={"title": "v2"}, headers={"If-Match": stale}).status_code == 200
    response = alice.patch(path, json={"title": "v3"}, headers={"If-Match": stale})
    assert response.status_code == 412
    assert response.json is not None
    assert response.json["code"] == "precondition_failed"
    current = alice.get(path).json
    assert current is not None
    assert (current["title"], current["version"]) == ("v2", 2)


def test_weak_or_foreign_etags_never_satisfy_if_match(alice: Caller) -> None:
    first, second = alice.create(), alice.create()
    path = f"/todos/{first['id']}"
    etag = alice.get(path).headers["ETag"]
    other = alice.get(f"/todos/{second['id']}").headers["ETag"]
    # Superscript digits (bytes \xb2, \xb9: latin-1) are digits to str.isdigit, not to int.
    superscript = f'"{first["id"]}.\u00b2"', f'"{first["id"]}.\u00b9\u00b2"'
    for header in (f"W/{etag}", other, "garbage", '"1"', *superscript):
        response = alice.patch(path, json={"done": True}, headers={"If-Match": header})
        assert response.status_code == 412, header
    assert alice.patch(path, json={"done": True}, headers={"If-Match": "*"}).status_code == 200


def test_if_none_match_on_a_write_is_412_when_it_names_the_todo(alice: Caller) -> None:
    # RFC 9110 section 13.1.2: on a method other than GET and HEAD, an If-None-Match that
    # names the current representation (weak comparison), or *, fails (found from outside:
    # it was ignored, so "change it unless it is still as I saw it" changed it).
    todo = alice.create()
    path = f"/todos/{todo['id']}"
    etag = alice.get(path).headers["ETag"]
    for header in (etag, f"W/{etag}", "*", f'"other", {etag}'):
        both = {"If-Match": etag, "If-None-Match": header}
        assert_problem(alice.patch(path, json={"done": True}, headers=both), 412)
        assert_problem(alice.put(path, json={"title": "t"}, headers=both), 412)
        assert_problem(alice.delete(path, headers={"If-None-Match": header}), 412)
    assert alice.get(path).json["version"] == 1  # nothing changed
    changed = alice.patch(
        path, json={"done": True}, headers={"If-Match": etag, "If-None-Match": '"other"'}
    )
    assert changed.status_code == 200
    assert_problem(alice.delete(f"/todos/{ObjectId()}", headers={"If-None-Match": "*"}), 404)
    assert alice.delete(path, headers={"If-None-Match": etag}).status_code == 204  # stale


def test_patch_changes_only_the_fields_sent_and_bumps_the_version(alice: Caller) -> None:
    todo = alice.create(title="t", notes="n", tags=["a"], due="2031-05-01T00:00:00Z")
    path = f"/todos/{todo['id']}"
    etag = alice.get(path).headers["ETag"]
    response = alice.patch(path, json={"done": True, "due": None}, headers={"If-Match": etag})
    assert response.status_code == 200
    body = response.json
    assert body is not None
    assert body == {
        **todo,
        "done": True,
        "due": None,
        "version": 2,
        "etag": f'"{todo["id"]}.2"',
        "updated_at": body["updated_at"],
    }
    assert body["updated_at"] >= todo["updated_at"]
    assert response.headers["ETag"] == body["etag"]
    assert alice.get(path).json == body


def test_put_replaces_the_whole_todo(alice: Caller) -> None:
    todo = alice.create(title="t", notes="n", tags=["a"], priority="high", done=True)
    path = f"/todos/{todo['id']}"
    response = alice.put(
        path, json={"title": "replaced"}, headers={"If-Match": f'"{todo["id"]}.1"'}
    )
    assert response.status_code == 200
    assert response.json == {
        **todo,
        "title": "replaced",
        "notes": "",
        "done": False,
        "due": None,
        "priority": "normal",
        "tags": [],
        "version": 2,
        "etag": f'"{todo["id"]}.2"',
        "updated_at": response.json["updated_at"],  # type: ignore[index]
    }


def test_empty_patch_is_422(alice: Caller) -> None:
    todo = alice.create()
    response = alice.patch(f"/todos/{todo['id']}", json={}, headers={"If-Match": "*"})
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["errors"] == {"json": {"_schema": ["Send at least one field to change."]}}


def test_delete_is_204_then_404(alice: Caller) -> None:
    todo = alice.create()
    path = f"/todos/{todo['id']}"
    response = alice.delete(path)
    assert response.status_code == 204
    assert response.data == b""
    assert alice.get(path).status_code == 404
    assert alice.delete(path).status_code == 404


def test_delete_honours_if_match(alice: Caller) -> None:
    todo = alice.create()
    path = f"/todos/{todo['id']}"
    stale = f'"{todo["id"]}.1"'
    alice.patch(path, json={"done": True}, headers={"If-Match": stale})
    response = alice.delete(path, headers={"If-Match": stale})
    assert response.status_code == 412
    assert alice.get(path).status_code == 200
    assert alice.delete(path, headers={"If-Match": f'"{todo["id"]}.2"'}).status_code == 204
    assert alice.get(path).status_code == 404


def test_dates_are_stored_in_utc(alice: Caller, todo_app: Flask) -> None:
    todo = alice.create(due="2030-06-01T12:00:00-05:00")
    assert todo["due"] == "2030-06-01T17:00:00+00:00"
    with todo_app.app_context():
        stored = mongo.db.todos.find_one()
    assert stored is not None
    assert stored["due"].utcoffset().total_seconds() == 0
    assert stored["due"].hour == 17
    assert stored["owner"] == alice.sub


def test_a_user_has_at_most_max_todos(todo_factory: AppFactory, issuer: TokenIssuer) -> None:
    app = todo_factory(MAX_TODOS_PER_USER=3)
    alice, bob = Caller(app.test_client(), issuer), Caller(app.test_client(), issuer)
    todos = [alice.create(title=f"t{n}") for n in range(3)]
    refused = alice.post("/todos", json={"title": "one too many"})
    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    assert refused.json is not None
    assert refused.json["code"] == "todo_limit_reached"
    with_key = alice.post("/todos", json={"title": "k"}, headers={"Idempotency-Key": "cap"})
    assert with_key.status_code == 409
    bob.create()  # the cap is per user
    assert alice.delete(f"/todos/{todos[0]['id']}").status_code == 204
    # The same key, retried once there is room, creates its todo.
    retried = alice.post("/todos", json={"title": "k"}, headers={"Idempotency-Key": "cap"})
    assert retried.status_code == 201
    assert alice.post("/todos", json={"title": "full again"}).status_code == 409
    with app.app_context():
        assert mongo.db.todos.count_documents({"owner": alice.sub}) == 3


def test_the_cap_counts_todos_stored_before_counting_began(
    todo_factory: AppFactory, issuer: TokenIssuer
) -> None:
    app = todo_factory(MAX_TODOS_PER_USER=3)
    alice = Caller(app.test_client(), issuer)
    with app.app_context():
        mongo.db.todos.insert_many([{"owner": alice.sub, "title": f"old {n}"} for n in range(2)])
    alice.create()
    assert alice.post("/todos", json={"title": "fourth"}).status_code == 409


def test_new_idempotency_keys_per_day_are_capped(
    todo_factory: AppFactory, issuer: TokenIssuer
) -> None:
    app = todo_factory(MAX_IDEMPOTENCY_KEYS_PER_USER_PER_DAY=2)
    alice = Caller(app.test_client(), issuer)
    first = alice.post("/todos", json={"title": "a"}, headers={"Idempotency-Key": "k1"})
    assert (
        alice.post("/todos", json={"title": "b"}, headers={"Idempotency-Key": "k2"}).status_code
        == 201
    )
    refused = alice.post("/todos", json={"title": "c"}, headers={"Idempotency-Key": "k3"})
    assert refused.status_code == 429
    assert refused.json is not None
    assert refused.json["code"] == "idempotency_key_quota_exceeded"
    assert 1 <= int(refused.headers["Retry-After"]) <= 24 * 3600
    replay = alice.post("/todos", json={"title": "a"}, headers={"Idempotency-Key": "k1"})
    assert replay.data == first.data  # keys already used still replay
    assert alice.post("/todos", json={"title": "no key"}).status_code == 201
    with app.app_context():
        assert mongo.db.idempotency_keys.count_documents({"owner": alice.sub}) == 2


def test_a_listed_todo_s_etag_is_its_if_match(alice: Caller) -> None:
    # The etag field is the ETag header's value: a client changes a listed todo with no GET.
    todo = alice.create(title="listed")
    (listed,) = alice.get("/todos").json  # type: ignore[misc]
    assert listed["etag"] == alice.get(f"/todos/{todo['id']}").headers["ETag"]
    changed = alice.patch(
        f"/todos/{todo['id']}", json={"done": True}, headers={"If-Match": listed["etag"]}
    )
    assert changed.status_code == 200
    assert changed.json is not None
    assert changed.json["etag"] == changed.headers["ETag"] == f'"{todo["id"]}.2"'
    stale = alice.patch(
        f"/todos/{todo['id']}", json={"done": False}, headers={"If-Match": listed["etag"]}
    )
    assert stale.status_code == 412
