"""Crafted input is a 4xx problem, never a 500: ids with newlines, deep JSON, lone surrogates."""

from __future__ import annotations

import pytest
from bson import ObjectId
from flask import Flask
from flask.testing import FlaskClient
from tests.integration.auth.helpers import PASSWORD, bearer, login, register
from tests.support.problems import assert_problem

from auth_service.repositories import users


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> dict[str, str]:
    user = register(client, "root")
    with app.app_context():
        users.add_role(user_id=ObjectId(user["id"]), role="admin")
    return bearer(login(client, "root")["access_token"])


def test_an_id_with_a_trailing_newline_is_404(client: FlaskClient, admin: dict[str, str]) -> None:
    victim = register(client, "victim")
    response = client.post(f"/auth/users/{victim['id']}%0A/disable", headers=admin)
    assert assert_problem(response, 404)["code"] == "user_not_found"


def test_a_page_beyond_any_page_is_422(client: FlaskClient, admin: dict[str, str]) -> None:
    response = client.get("/auth/users?page=99999999999999999999", headers=admin)
    assert "page" in assert_problem(response, 422)["errors"]["query"]


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login"])
def test_a_deeply_nested_body_is_400(client: FlaskClient, path: str) -> None:
    body = '{"username": "alice", "password": ' + "[" * 20_000 + "]" * 20_000 + "}"
    response = client.post(path, data=body, content_type="application/json")
    assert assert_problem(response, 400)["code"] == "bad_request"


@pytest.mark.parametrize("field", ["username", "password"])
def test_a_lone_surrogate_is_400(client: FlaskClient, field: str) -> None:
    fields = {"username": '"alice"', "password": f'"{PASSWORD}"', field: '"x\\ud800y"'}
    body = "{" + ", ".join(f'"{name}": {value}' for name, value in fields.items()) + "}"
    for path in ("/auth/register", "/auth/login"):
        response = client.post(path, data=body, content_type="application/json")
        assert assert_problem(response, 400)["code"] == "bad_request"
