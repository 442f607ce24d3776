"""Registration and login: normalization, uniqueness, validation, identical failures."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient
from tests.integration.auth.helpers import PASSWORD, bearer, claims_of, login, register


def test_register_returns_the_public_user(client: FlaskClient) -> None:
    response = client.post(
        "/auth/register",
        json={"username": "  Alice ", "password": PASSWORD, "email": "alice@example.org"},
    )
    assert response.status_code == 201
    body = response.json
    assert set(body) == {
        "id",
        "username",
        "email",
        "email_verified",
        "roles",
        "created_at",
        "mfa_enabled",
    }
    assert body["mfa_enabled"] is False
    assert body["username"] == "Alice"
    assert body["roles"] == ["user"]
    assert len(body["id"]) == 24
    assert "argon2" not in response.get_data(as_text=True)


@pytest.mark.parametrize("variant", ["alice", "ALICE", " Alice\t", "\uff21lice"])
def test_usernames_are_unique_after_normalization(client: FlaskClient, variant: str) -> None:
    register(client, "Alice")
    response = client.post("/auth/register", json={"username": variant, "password": PASSWORD})
    assert response.status_code == 409
    assert response.json["code"] == "username_taken"
    # ...and any of those forms logs in to the one account.
    assert "access_token" in login(client, variant)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": {"$ne": ""}, "password": PASSWORD}, "username"),
        ({"username": "alice", "password": {"$gt": ""}}, "password"),
        ({"username": ["alice"], "password": PASSWORD}, "username"),
        ({"username": 42, "password": PASSWORD}, "username"),
        ({"password": PASSWORD}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": "al", "password": PASSWORD}, "username"),
        ({"username": "a" * 33, "password": PASSWORD}, "username"),
        ({"username": "a" * 5000, "password": PASSWORD}, "username"),
        ({"username": "al ice", "password": PASSWORD}, "username"),
        ({"username": "alice\u0000", "password": PASSWORD}, "username"),
        ({"username": "alice", "password": "short"}, "password"),
        ({"username": "alice", "password": "x" * 1025}, "password"),
        ({"username": "alice", "password": "password123"}, "password"),
        ({"username": "alice", "password": "PassWord123"}, "password"),
        ({"username": "alice", "password": PASSWORD, "email": "not-an-email"}, "email"),
        ({"username": "alice", "password": PASSWORD, "email": "a@b.org" * 50}, "email"),
        ({"username": "alice", "password": PASSWORD, "roles": ["admin"]}, "roles"),
        ({"username": "alice", "password": PASSWORD, "id": "0" * 24}, "id"),
        ({"username": "alice", "password": PASSWORD, "disabled": False}, "disabled"),
        ({"username": "alice", "password": PASSWORD, "password_hash": "x"}, "password_hash"),
    ],
)
def test_register_rejects_bad_input_with_422(
    client: FlaskClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/auth/register", json=body)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]["json"]


def test_long_passwords_are_not_truncated(client: FlaskClient) -> None:
    password = "p" * 1000 + "-tail-a"
    client.post("/auth/register", json={"username": "alice", "password": password})
    wrong = client.post(
        "/auth/login", json={"username": "alice", "password": "p" * 1000 + "-tail-b"}
    )
    assert wrong.status_code == 401
    assert login(client, "alice", password)["token_type"] == "Bearer"


def test_nothing_unvalidated_reaches_the_database(
    client: FlaskClient, app: Flask, mongo_client: MongoClient[dict[str, Any]]
) -> None:
    register(client)
    response = client.post("/auth/login", json={"username": {"$ne": ""}, "password": {"$ne": ""}})
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"username", "password"}
    users = mongo_client[app.config["MONGO_DB_NAME"]]["users"]
    assert users.count_documents({}) == 1


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"username": "alice", "password": "x"'], ids=["broken", "truncated"]
)
def test_malformed_json_is_400(client: FlaskClient, body: bytes) -> None:
    response = client.post("/auth/login", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_oversize_body_is_413(client: FlaskClient) -> None:
    response = client.post("/auth/register", json={"username": "a" * 100_000, "password": PASSWORD})
    assert response.status_code == 413
    assert response.json["code"] == "content_too_large"


def test_wrong_content_type_is_415(client: FlaskClient) -> None:
    response = client.post("/auth/login", data="username=alice", content_type="text/plain")
    assert response.status_code == 415


def test_login_returns_tokens_that_must_not_be_cached(client: FlaskClient) -> None:
    user = register(client)
    response = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    access = claims_of(body["access_token"])
    assert access["sub"] == user["id"]
    assert access["type"] == "access"
    assert access["fresh"] is True
    assert access["roles"] == ["user"]
    assert access["iss"] == "auth-service"
    assert access["aud"] == "flask-factory"
    assert access["exp"] - access["iat"] == 900
    assert {"jti", "nbf", "fid"} <= set(access)
    refresh = claims_of(body["refresh_token"])
    assert refresh["type"] == "refresh"
    assert refresh["fresh"] is False
    assert refresh["fid"] == access["fid"]
    assert refresh["exp"] - refresh["iat"] == 30 * 24 * 3600


def test_token_lifetimes_are_configurable(make_auth_app: Any) -> None:
    client = make_auth_app(
        ACCESS_TOKEN_TTL_SECONDS=60, REFRESH_TOKEN_TTL_SECONDS=3600
    ).test_client()
    register(client)
    body = login(client)
    assert body["expires_in"] == 60
    access, refresh = claims_of(body["access_token"]), claims_of(body["refresh_token"])
    assert access["exp"] - access["iat"] == 60
    assert refresh["exp"] - refresh["iat"] == 3600


def test_unknown_user_and_wrong_password_get_the_same_answer(client: FlaskClient) -> None:
    register(client)
    wrong = client.post("/auth/login", json={"username": "alice", "password": "wrong password"})
    unknown = client.post("/auth/login", json={"username": "nobody", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]

    def comparable(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k != "request_id"}

    assert comparable(wrong.json) == comparable(unknown.json)
    assert wrong.json["code"] == "invalid_credentials"


def test_unknown_users_are_checked_against_a_dummy_hash(app: Flask, client: FlaskClient) -> None:
    # The timing defence: the unknown-user path runs a real argon2 verification.
    passwords = app.extensions["auth.passwords"]
    assert passwords._dummy_hash is None
    client.post("/auth/login", json={"username": "nobody", "password": "whatever pass"})
    assert passwords._dummy_hash is not None
    assert passwords._dummy_hash.startswith("$argon2id$")


def test_login_rehashes_when_parameters_change(
    make_auth_app: Any, mongo_client: MongoClient[dict[str, Any]]
) -> None:
    old = make_auth_app()
    register(old.test_client())
    users = mongo_client[old.config["MONGO_DB_NAME"]]["users"]
    old_hash = users.find_one({})["password_hash"]
    assert "m=8,t=1,p=1" in old_hash

    stronger = make_auth_app(
        ARGON2_FAST_IN_TESTING=False,
        ARGON2_TIME_COST=2,
        ARGON2_MEMORY_COST_KIB=19456,
        ARGON2_PARALLELISM=1,
    )
    login(stronger.test_client())
    new_hash = users.find_one({})["password_hash"]
    assert "m=19456,t=2,p=1" in new_hash
    assert new_hash.startswith("$argon2id$")
    login(stronger.test_client())  # the new hash verifies


def test_no_response_contains_a_hash(client: FlaskClient, tokens: dict[str, Any]) -> None:
    headers = bearer(tokens["access_token"])
    responses = [
        client.get("/auth/me", headers=headers),
        client.patch(
            "/auth/me", json={"email": "new@example.org", "password": PASSWORD}, headers=headers
        ),
        client.post("/auth/register", json={"username": "bob", "password": PASSWORD}),
    ]
    for response in responses:
        text = response.get_data(as_text=True)
        assert response.status_code < 300
        assert "argon2" not in text
        assert "password" not in text
        assert "username_key" not in text
