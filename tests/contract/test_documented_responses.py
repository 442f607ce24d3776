"""Every response an operation gives is in its spec: provoke the failures, look them up.

For each operation of each service: no token, a garbage token, malformed JSON, a text body, a
body over the size cap, unknown and operator-shaped fields, bad query values, malformed ids,
missing and stale If-Match, and the database down. Whatever status comes back must be listed
for that operation explicitly (the catch-all `default` does not count), errors must be
problem+json, and nothing may be a 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from flask import Flask
from flask.testing import FlaskClient
from tests.support import AppFactory
from tests.support.accounts import FlaskHttp, new_password, new_username, registered
from tests.support.devdb import free_port
from tests.support.openapi import operations
from tests.support.services import FEED_TOKEN

from auth_service import create_app as create_auth
from todo_service import create_app as create_todo

RELAXED_LIMITS = {"RATE_LIMITS_ENABLED": False}


@dataclass
class Probe:
    """One request variant sent to one operation."""

    why: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None


@dataclass
class Credentials:
    token: str
    admin: bool = False


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def probes(
    method: str, path: str, operation: dict[str, Any], caller: Credentials, max_body: int
) -> Iterator[Probe]:
    parameters = operation.get("parameters", [])
    path_names = [p["name"] for p in parameters if p["in"] == "path"]
    url = path
    for name in path_names:
        url = url.replace("{" + name + "}", str(ObjectId()))
    bearer = {"Authorization": f"Bearer {caller.token}"}
    secured = bool(operation.get("security"))
    auth = bearer if secured else {}
    has_body = "requestBody" in operation
    body = _json({}) if has_body else None
    content_type = "application/json" if has_body else None

    def probe(why: str, **kwargs: Any) -> Probe:
        values: dict[str, Any] = {
            "method": method,
            "url": url,
            "headers": {**auth},
            "body": body,
            "content_type": content_type,
        }
        values.update(kwargs)
        return Probe(why, **values)

    yield probe("a minimal request")
    if secured:
        yield probe("no Authorization header", headers={})
        yield probe("a garbage bearer token", headers={"Authorization": "Bearer not.a.jwt"})
        yield probe("a Basic credential", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    if has_body:
        yield probe("malformed JSON", body=b'{"title": ')
        yield probe("a text/plain body", body=b"title=x", content_type="text/plain")
        yield probe("a body over the size cap", body=_json({"notes": "x" * (max_body + 1)}))
        yield probe("an unknown field", body=_json({"no_such_field": 1}))
        yield probe("a JSON array body", body=_json([1, 2]))
        yield probe("operator objects", body=_json({"username": {"$ne": ""}, "title": {"$gt": ""}}))
    for parameter in parameters:
        if parameter["in"] == "query":
            yield probe(f"a bad ?{parameter['name']}", url=f"{url}?{parameter['name']}=%00%ff!!")
    yield probe("an unknown query parameter", url=f"{url}?no_such_parameter=1")
    for name in path_names:
        yield probe(f"a malformed {name}", url=url.replace(url.rsplit("/", 1)[-1], "not-an-id"))
    if any(p["in"] == "header" and p["name"] == "If-Match" for p in parameters):
        yield probe("a stale If-Match", headers={**auth, "If-Match": '"stale"'})


def send(client: FlaskClient, probe: Probe) -> Any:
    kwargs: dict[str, Any] = {"method": probe.method, "headers": probe.headers}
    if probe.body is not None:
        kwargs["data"] = probe.body
        kwargs["content_type"] = probe.content_type
    return client.open(probe.url, **kwargs)


def violations(app: Flask, caller: Credentials, seen: set[int] | None = None) -> list[str]:
    """Every probe whose answer is undocumented, a 500, or an error not in the problem shape."""
    seen = set() if seen is None else seen
    client = app.test_client()
    spec = client.get("/openapi.json").get_json()
    max_body = int(app.config["MAX_CONTENT_LENGTH"])
    found = []
    for method, path, operation in operations(spec):
        documented = set(operation["responses"]) - {"default"}
        for probe in probes(method, path, operation, caller, max_body):
            response = send(client, probe)
            status = response.status_code
            seen.add(status)
            where = f"{probe.method} {path} with {probe.why}: {status}"
            if str(status) not in documented:
                found.append(f"{where} is not documented (documented: {sorted(documented)})")
            if status >= 500 and status != 503:
                found.append(f"{where}: {response.get_data(as_text=True)[:200]}")
            if status >= 400:
                body = response.get_json(silent=True) or {}
                if response.mimetype != "application/problem+json" or body.get("status") != status:
                    found.append(f"{where} is not a problem document: {body}")
    return found


def register_and_login(client: FlaskClient) -> str:
    return registered(FlaskHttp(client)).access_token


def make_admin(app: Flask) -> str:
    """An administrator, made by the operator command, logged in through the API."""
    username, password = new_username("admin"), new_password()
    result = app.test_cli_runner().invoke(
        args=["create-admin", username], env={"AUTH_ADMIN_PASSWORD": password}
    )
    assert result.exit_code == 0, result.output
    response = app.test_client().post(
        "/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["access_token"]
    return token


def _dead_database() -> dict[str, Any]:
    return {
        "MONGO_URI": f"mongodb://127.0.0.1:{free_port()}/",
        "MONGO_SERVER_SELECTION_TIMEOUT_MS": 150,
        "MONGO_CONNECT_TIMEOUT_MS": 150,
    }


@pytest.fixture
def auth_app(make_app: AppFactory) -> Flask:
    return make_app(create_auth, FEED_TOKEN=FEED_TOKEN, **RELAXED_LIMITS)


@pytest.fixture
def jwks_file(auth_app: Flask, tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(auth_app.test_client().get("/.well-known/jwks.json").get_data(as_text=True))
    return path


def test_auth_answers_only_what_its_spec_documents(auth_app: Flask) -> None:
    client = auth_app.test_client()
    user = Credentials(register_and_login(client))
    admin = Credentials(make_admin(auth_app), admin=True)
    found = violations(auth_app, user) + violations(auth_app, admin)
    assert not found, "\n".join(found)


def test_auth_with_its_database_down_answers_documented_503s(
    auth_app: Flask, make_app: AppFactory
) -> None:
    token = register_and_login(auth_app.test_client())
    # Same signing key (same instance folder), a database that does not answer.
    down = make_app(create_auth, FEED_TOKEN=FEED_TOKEN, **_dead_database())
    seen: set[int] = set()
    found = violations(down, Credentials(token), seen)
    assert not found, "\n".join(found)
    assert 503 in seen


@pytest.mark.parametrize("database", ["up", "down"])
def test_todo_answers_only_what_its_spec_documents(
    database: str, auth_app: Flask, jwks_file: Path, make_app: AppFactory
) -> None:
    token = register_and_login(auth_app.test_client())
    # Todo trusts auth's published keys; the revocation feed needs a live auth (tested live).
    todo = make_app(
        create_todo,
        JWKS_FILE=str(jwks_file),
        REVOCATION_FEED_URL="",
        **(_dead_database() if database == "down" else {}),
    )
    seen: set[int] = set()
    found = violations(todo, Credentials(token), seen)
    assert not found, "\n".join(found)
    assert (503 in seen) == (database == "down"), seen
    assert {401, 404, 422} <= seen
