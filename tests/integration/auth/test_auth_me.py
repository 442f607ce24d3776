"""The signed-in account: read, update, delete, change the password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient
from pymongo.errors import AutoReconnect
from tests.integration.auth.helpers import PASSWORD, bearer, login, register
from tests.support.problems import assert_problem

from auth_service.repositories import users

NEW_PASSWORD = "a much better passphrase"


@pytest.fixture
def db(mongo_client: MongoClient[dict[str, Any]], db_name: str) -> Any:
    return mongo_client[db_name]


def test_me_reads_the_account(client: FlaskClient, tokens: dict[str, Any]) -> None:
    response = client.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json == tokens["user"]


def test_patch_me_changes_only_the_email(client: FlaskClient, tokens: dict[str, Any]) -> None:
    headers = bearer(tokens["access_token"])
    response = client.patch(
        "/auth/me", json={"email": "new@example.org", "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200
    assert response.json["email"] == "new@example.org"
    assert client.get("/auth/me", headers=headers).json["email"] == "new@example.org"
    cleared = client.patch("/auth/me", json={"email": None, "password": PASSWORD}, headers=headers)
    assert cleared.json["email"] is None


def test_changing_the_address_needs_a_fresh_token_and_the_password(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    # The address is where a password reset goes: whoever changes it owns the account. A
    # stolen token alone (a refresh token's pair, say) must not do it; found from outside:
    # refresh, PATCH the address to the thief's, verify, reset the password, log in.
    change = {"email": "thief@example.org", "password": PASSWORD}
    refreshed = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])).json
    stale = client.patch("/auth/me", json=change, headers=bearer(refreshed["access_token"]))
    assert_problem(stale, 401, "fresh_token_required")
    fresh = bearer(login(client)["access_token"])
    missing = client.patch("/auth/me", json={"email": "thief@example.org"}, headers=fresh)
    assert missing.status_code == 422
    assert missing.json["errors"]["json"] == {"password": ["Missing data for required field."]}
    wrong = client.patch("/auth/me", json={**change, "password": "not it at all"}, headers=fresh)
    assert_problem(wrong, 403, "wrong_password")
    assert client.get("/auth/me", headers=fresh).json["email"] is None
    changed = client.patch("/auth/me", json=change, headers=fresh)
    assert changed.status_code == 200, changed.json
    assert changed.json["email"] == "thief@example.org"


def test_deleting_the_account_takes_its_password_as_json_only(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    # Found from outside: a text/plain body was read as no body at all (422 "password
    # missing"), where its spec says 415.
    response = client.delete(
        "/auth/me",
        data=f'{{"password": "{PASSWORD}"}}',
        content_type="text/plain",
        headers=bearer(tokens["access_token"]),
    )
    assert_problem(response, 415, "unsupported_media_type")


def test_logging_out_ignores_a_body_it_does_not_take(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    response = client.post(
        "/auth/logout",
        data="{",
        content_type="application/json",
        headers=bearer(tokens["access_token"]),
    )
    assert response.status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {"roles": ["admin"]},
        {"email": "x@example.org", "roles": ["admin"]},
        {"email": "x@example.org", "username": "mallory"},
        {"email": {"$set": "x"}},
        {"email": "not an email"},
        {},
    ],
)
def test_patch_me_rejects_other_fields(
    client: FlaskClient, tokens: dict[str, Any], body: dict[str, Any]
) -> None:
    headers = bearer(tokens["access_token"])
    response = client.patch("/auth/me", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"]["json"]
    assert client.get("/auth/me", headers=headers).json == tokens["user"]


def test_delete_me_revokes_everything(client: FlaskClient, tokens: dict[str, Any]) -> None:
    other_session = login(client)
    response = client.delete(
        "/auth/me", json={"password": PASSWORD}, headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 204
    for token in (tokens["access_token"], other_session["access_token"]):
        assert client.get("/auth/me", headers=bearer(token)).status_code == 401
    assert client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 401
    failed = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert failed.status_code == 401
    # The name is free again, for a new account with a new id.
    assert register(client)["id"] != tokens["user"]["id"]


def test_a_deletion_cut_short_by_the_database_locks_nobody_out(
    client: FlaskClient, tokens: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by make scale-test: the revocation was written, the account's new token version
    # was not (the database failed in between), so every later login's token was refused.
    def database_gone(**_: Any) -> bool:
        raise AutoReconnect("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(users, "mark_deleting", database_gone)
        cut_short = client.delete(
            "/auth/me", json={"password": PASSWORD}, headers=bearer(tokens["access_token"])
        )
        assert cut_short.status_code == 503
    # Nothing happened: the owner's tokens and a new login's work, and a retry deletes.
    assert client.get("/auth/me", headers=bearer(tokens["access_token"])).status_code == 200
    again = login(client)
    assert client.get("/auth/me", headers=bearer(again["access_token"])).status_code == 200
    retried = client.delete(
        "/auth/me", json={"password": PASSWORD}, headers=bearer(again["access_token"])
    )
    assert retried.status_code == 204


def change_password(client: FlaskClient, token: str, current: str = PASSWORD) -> Any:
    return client.post(
        "/auth/me/password",
        json={"current_password": current, "new_password": NEW_PASSWORD},
        headers=bearer(token),
    )


def test_password_change_signs_out_every_session(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    other_session = login(client)
    response = change_password(client, tokens["access_token"])
    assert response.status_code == 204
    for session in (tokens, other_session):
        assert client.get("/auth/me", headers=bearer(session["access_token"])).status_code == 401
        refreshed = client.post("/auth/refresh", headers=bearer(session["refresh_token"]))
        assert refreshed.status_code == 401
    old = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert old.status_code == 401
    # A login right after the change (same second) works: the cut-off never hits new tokens.
    fresh = login(client, password=NEW_PASSWORD)
    assert client.get("/auth/me", headers=bearer(fresh["access_token"])).status_code == 200


def test_password_change_needs_a_fresh_token(client: FlaskClient, tokens: dict[str, Any]) -> None:
    refreshed = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])).json
    response = change_password(client, refreshed["access_token"])
    assert response.status_code == 401
    assert response.json["code"] == "fresh_token_required"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert login(client)["token_type"] == "Bearer"  # the password did not change


def test_password_change_checks_the_current_password(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    response = change_password(client, tokens["access_token"], current="not my password")
    assert response.status_code == 403
    assert response.json["code"] == "wrong_password"
    assert client.get("/auth/me", headers=bearer(tokens["access_token"])).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"current_password": PASSWORD, "new_password": "password1"},
        {"current_password": PASSWORD, "new_password": "short"},
        {"current_password": PASSWORD},
        {"current_password": {"$ne": ""}, "new_password": NEW_PASSWORD},
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "roles": ["admin"]},
    ],
)
def test_password_change_validates_input(
    client: FlaskClient, tokens: dict[str, Any], body: dict[str, Any]
) -> None:
    response = client.post("/auth/me/password", json=body, headers=bearer(tokens["access_token"]))
    assert response.status_code == 422
    assert response.json["errors"]["json"]


def test_delete_me_needs_a_fresh_token(client: FlaskClient, tokens: dict[str, Any]) -> None:
    """A stolen refresh token alone must not destroy the account."""
    refreshed = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])).json
    response = client.delete(
        "/auth/me", json={"password": PASSWORD}, headers=bearer(refreshed["access_token"])
    )
    assert response.status_code == 401
    assert response.json["code"] == "fresh_token_required"
    assert client.get("/auth/me", headers=bearer(refreshed["access_token"])).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [(None, 422), ({}, 422), ({"password": "wrong password"}, 403), ({"password": ""}, 422)],
)
def test_delete_me_needs_the_password(
    client: FlaskClient, tokens: dict[str, Any], body: dict[str, Any] | None, status: int
) -> None:
    headers = bearer(tokens["access_token"])
    response = client.delete("/auth/me", json=body, headers=headers)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    if status == 403:
        assert response.json["code"] == "wrong_password"
    assert client.get("/auth/me", headers=headers).status_code == 200


# --- Writes of the password hash are conditional on the hash they checked (third audit, 2) ---


def _stale_hash(password: str) -> str:
    """``password`` hashed with argon2 parameters other than the app's: a login rehashes it."""
    return PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(password)


def _while_hashing(app: Flask, meanwhile: Callable[[], None]) -> None:
    """Run ``meanwhile`` the next time the app hashes a password, before the hash is stored:
    a concurrent request's write landing between this request's check and its write."""
    hasher = app.extensions["auth.passwords"]
    original = hasher.hash

    def hash_then_interfere(password: str) -> str:
        hasher.hash = original  # once
        hashed = original(password)
        meanwhile()
        return hashed

    hasher.hash = hash_then_interfere


def test_a_login_rehash_never_undoes_a_password_change_made_meanwhile(
    app: Flask, client: FlaskClient, db: Any
) -> None:
    register(client)
    db.users.update_one(
        {"username_key": "alice"}, {"$set": {"password_hash": _stale_hash(PASSWORD)}}
    )
    # The owner changes the password while a login with the old one is rehashing it.
    _while_hashing(
        app,
        lambda: db.users.update_one(
            {"username_key": "alice"}, {"$set": {"password_hash": _stale_hash(NEW_PASSWORD)}}
        ),
    )
    assert (
        client.post("/auth/login", json={"username": "alice", "password": PASSWORD}).status_code
        == 200
    )
    old = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert (old.status_code, old.json["code"]) == (401, "invalid_credentials")
    assert login(client, password=NEW_PASSWORD)["access_token"]


def test_a_password_change_never_overwrites_a_password_set_meanwhile(
    app: Flask, client: FlaskClient, db: Any, tokens: dict[str, Any]
) -> None:
    # A reset lands while the change is hashing its new password: the reset's password stays.
    reset_password = "the password of the reset"
    _while_hashing(
        app,
        lambda: db.users.update_one(
            {"username_key": "alice"}, {"$set": {"password_hash": _stale_hash(reset_password)}}
        ),
    )
    answer = change_password(client, tokens["access_token"])
    assert answer.status_code == 409, answer.json
    assert answer.json["code"] == "password_changed_meanwhile"
    assert answer.mimetype == "application/problem+json"
    assert (
        client.post("/auth/login", json={"username": "alice", "password": NEW_PASSWORD}).status_code
        == 401
    )
    assert login(client, password=reset_password)["access_token"]
