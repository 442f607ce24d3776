"""Fail closed when the database is down; the published OpenAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from tests.integration.auth.helpers import PASSWORD, bearer, login, register
from tests.integration.auth.test_auth_mfa import turn_on
from tests.support.devdb import DevDB


def test_revocation_store_down_fails_closed(make_auth_app: Any, tmp_path: Path) -> None:
    devdb = DevDB(tmp_path / "db").start()
    try:
        app = make_auth_app(MONGO_URI=devdb.uri)
        client = app.test_client()
        register(client)
        session = login(client)
        register(client, "mfa-user")
        turn_on(client, login(client, "mfa-user"))
        challenge = client.post("/auth/login", json={"username": "mfa-user", "password": PASSWORD})
        assert challenge.status_code == 202
        devdb.kill()
        # A valid token cannot be checked against the revocations: 503, never a pass.
        response = client.get("/auth/me", headers=bearer(session["access_token"]))
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert response.json["code"] == "database_unavailable"
        assert (
            client.post("/auth/refresh", headers=bearer(session["refresh_token"])).status_code
            == 503
        )
        assert (
            client.post("/auth/login", json={"username": "alice", "password": "x" * 8}).status_code
            == 503
        )
        # Each answer is in its spec (found from outside: the second factor's 503 was not).
        second_factor = client.post(
            "/auth/login/mfa", json={"challenge": challenge.json["challenge"], "code": "123456"}
        )
        assert second_factor.status_code == 503
        spec = client.get("/openapi.json").json
        assert "503" in spec["paths"]["/auth/login/mfa"]["post"]["responses"]
        assert client.get("/livez").status_code == 200
        # Recovery without a restart.
        devdb.start()
        assert client.get("/auth/me", headers=bearer(session["access_token"])).status_code == 200
    finally:
        devdb.stop()


def test_openapi_documents_every_operation(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    paths = spec["paths"]
    expected = {
        ("/auth/register", "post"),
        ("/auth/login", "post"),
        ("/auth/token", "post"),
        ("/auth/refresh", "post"),
        ("/auth/logout", "post"),
        ("/auth/me", "get"),
        ("/auth/me", "patch"),
        ("/auth/me", "delete"),
        ("/auth/me/password", "post"),
        ("/auth/users", "get"),
        ("/auth/users/{user_id}/disable", "post"),
        ("/.well-known/jwks.json", "get"),
        ("/auth/revocations", "get"),
    }
    found = {
        (path, method) for path, item in paths.items() for method in item if method != "parameters"
    }
    assert expected <= found
    public = {
        ("/auth/register", "post"),
        ("/auth/login", "post"),
        ("/auth/token", "post"),
        ("/.well-known/jwks.json", "get"),
    }
    for path, method in expected:
        operation = paths[path][method]
        assert operation["summary"], (path, method)
        if (path, method) in public:
            assert operation["security"] == []
        elif path == "/auth/revocations":
            assert operation["security"] == [{"feedToken": []}]
        elif path == "/auth/refresh":
            assert operation["security"] == [{"refreshToken": []}]
            assert "401" in operation["responses"], (path, method)
        else:
            # An access token, pasted (bearerAuth) or from a login at /auth/token.
            access = [{"bearerAuth": []}, {"oauth2Password": []}]
            assert operation["security"] == access, (path, method)
            assert "401" in operation["responses"], (path, method)
    assert "429" in paths["/auth/login"]["post"]["responses"]
    assert "409" in paths["/auth/register"]["post"]["responses"]
    assert "403" in paths["/auth/users"]["get"]["responses"]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert "password" not in spec["components"]["schemas"]["User"]["properties"]
