"""Administration: roles in tokens, listing and disabling accounts, the create-admin command."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from tests.integration.auth.helpers import PASSWORD, bearer, claims_of, login, register, sign
from tests.support.commands import command_recorder, next_link
from tests.support.problems import assert_problem

ADMIN_PASSWORD = "admin passphrase 42"


def make_admin(app: Flask, username: str = "root") -> Any:
    runner = app.test_cli_runner()
    return runner.invoke(
        args=["create-admin", username], env={"AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD}
    )


def admin_headers(app: Flask, client: FlaskClient) -> dict[str, str]:
    result = make_admin(app)
    assert result.exit_code == 0, result.output
    return bearer(login(client, "root", ADMIN_PASSWORD)["access_token"])


def test_create_admin_command(app: Flask, client: FlaskClient) -> None:
    result = make_admin(app)
    assert result.exit_code == 0, result.output
    assert "Created admin root" in result.output
    session = login(client, "root", ADMIN_PASSWORD)
    assert claims_of(session["access_token"])["roles"] == ["user", "admin"]


def test_create_admin_promotes_an_existing_account(app: Flask, client: FlaskClient) -> None:
    register(client, "root")
    result = make_admin(app)
    assert result.exit_code == 0, result.output
    assert "is now an admin" in result.output
    assert claims_of(login(client, "root")["access_token"])["roles"] == ["user", "admin"]


def test_create_admin_validates_like_registration(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-admin", "x"], env={"AUTH_ADMIN_PASSWORD": "password"}
    )
    assert result.exit_code == 2
    assert "username" in result.output
    assert "password" in result.output


def test_users_list_is_admin_only(app: Flask, client: FlaskClient, tokens: dict[str, Any]) -> None:
    response = client.get("/auth/users", headers=bearer(tokens["access_token"]))
    assert response.status_code == 403
    assert response.json["code"] == "admin_required"
    assert client.get("/auth/users").status_code == 401


def test_users_list_is_paginated(app: Flask, client: FlaskClient) -> None:
    for name in ("anna", "bert", "carl"):
        register(client, name)
    headers = admin_headers(app, client)
    response = client.get("/auth/users?page=1&page_size=2", headers=headers)
    assert response.status_code == 200
    assert [user["username"] for user in response.json] == ["anna", "bert"]
    assert set(response.json[0]) == {
        "id",
        "username",
        "email",
        "email_verified",
        "roles",
        "created_at",
        "disabled",
        "mfa_enabled",
    }
    assert '"total": 4' in response.headers["X-Pagination"]
    second = client.get("/auth/users?page=2&page_size=2", headers=headers).json
    assert [user["username"] for user in second] == ["carl", "root"]
    assert "argon2" not in response.get_data(as_text=True)
    too_big = client.get("/auth/users?page_size=1000", headers=headers)
    assert too_big.status_code == 422


def test_users_list_follows_cursors_without_skip_or_count(app: Flask, client: FlaskClient) -> None:
    for name in ("anna", "bert", "carl", "dora"):
        register(client, name)
    headers = admin_headers(app, client)
    recorder = command_recorder()
    names: list[str] = []
    path: str | None = "/auth/users?page_size=2"
    while path is not None:
        with recorder:
            response = client.get(path, headers=headers)
        assert response.status_code == 200
        names += [user["username"] for user in response.json]
        # The total is the collection's own count (O(1)): every page says 5.
        assert json.loads(response.headers["X-Pagination"])["total"] == 5
        # (the other find on users: the admin's own account, loaded for its roles)
        finds = [c for c in recorder.named("find", "users") if "sort" in c]
        assert len(finds) == 1
        assert "skip" not in finds[0]
        assert finds[0]["limit"] == 3
        assert finds[0]["sort"] == {"_id": 1}
        counts = recorder.named("count", "users") + recorder.named("aggregate", "users")
        assert all(not command.get("query") for command in counts)
        path = next_link(response)
    assert names == ["anna", "bert", "carl", "dora", "root"]


def test_disabled_users_cannot_log_in_and_their_tokens_stop(
    app: Flask, client: FlaskClient, tokens: dict[str, Any]
) -> None:
    headers = admin_headers(app, client)
    user_id = tokens["user"]["id"]
    response = client.post(f"/auth/users/{user_id}/disable", headers=headers)
    assert response.status_code == 200
    assert response.json["disabled"] is True
    assert response.json["id"] == user_id
    assert client.get("/auth/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 401
    denied = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert denied.status_code == 401
    assert denied.json["code"] == "invalid_credentials"


def test_disable_needs_admin_and_an_existing_user(
    app: Flask, client: FlaskClient, tokens: dict[str, Any]
) -> None:
    user_id = tokens["user"]["id"]
    forbidden = client.post(
        f"/auth/users/{user_id}/disable", headers=bearer(tokens["access_token"])
    )
    assert forbidden.status_code == 403
    assert client.get("/auth/me", headers=bearer(tokens["access_token"])).status_code == 200
    headers = admin_headers(app, client)
    for missing in ("0" * 24, "not-an-id", "$ne"):
        response = client.post(f"/auth/users/{missing}/disable", headers=headers)
        assert response.status_code == 404
        assert response.json["code"] == "user_not_found"


def test_an_administrator_cannot_disable_their_own_account(app: Flask, client: FlaskClient) -> None:
    # Found from outside: it was a 200, and nothing turns an account on again: the last
    # administrator could lock every one out.
    headers = admin_headers(app, client)
    me = client.get("/auth/me", headers=headers).json
    refused = client.post(f"/auth/users/{me['id']}/disable", headers=headers)
    assert_problem(refused, 403, "own_account")
    assert client.get("/auth/me", headers=headers).status_code == 200  # still enabled


def test_roles_come_from_the_account_not_the_token(
    app: Flask, client: FlaskClient, tokens: dict[str, Any]
) -> None:
    # A token whose roles claim says admin (it could only come from a stolen key) is still
    # checked against the stored account for admin operations.
    claims = {**claims_of(tokens["access_token"]), "roles": ["user", "admin"]}
    response = client.get("/auth/users", headers=bearer(sign(app, claims)))
    assert response.status_code == 403
