"""Schemathesis against each service's WSGI app in this process, with real authentication.

auth: its own app mints the tokens (register + login through the API). todo: a live auth
under gunicorn mints them, and todo fetches auth's keys and revocation feed over loopback,
as it does in production. Every default check and phase is on, plus the two of
tests/contract/fuzzing.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient
from tests.contract.fuzzing import (
    AUTH_KNOWN_BUGS,
    TODO_KNOWN_BUGS,
    Credentials,
    call_in_process,
    expect_known_bugs,
    published_schema,
)
from tests.support.accounts import new_password, new_username, registered
from tests.support.gunicorn import GunicornServer
from tests.support.services import FEED_TOKEN, start_auth

from auth_service import create_app as create_auth
from factory_core.runtime.lifecycle import shutdown
from todo_service import create_app as create_todo


def _database(mongo_client: MongoClient[dict[str, object]]) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    mongo_client.drop_database(name)


@pytest.fixture(scope="module")
def auth_db(mongo_client: MongoClient[dict[str, object]]) -> Iterator[str]:
    yield from _database(mongo_client)


@pytest.fixture(scope="module")
def todo_db(mongo_client: MongoClient[dict[str, object]]) -> Iterator[str]:
    yield from _database(mongo_client)


def _login(client: FlaskClient, username: str, password: str) -> Credentials:
    response = client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return Credentials(body["access_token"], body["refresh_token"])


@pytest.fixture(scope="module")
def auth_app(
    mongo_uri: str, auth_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    app = create_auth(
        {
            "ENV": "testing",
            "MONGO_URI": mongo_uri,
            "MONGO_DB_NAME": auth_db,
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("auth-instance")),
            "FEED_TOKEN": FEED_TOKEN,
            # The fuzzer registers and logs in far faster than any person; the limits have
            # their own tests (and stay on in the live run).
            "RATE_LIMITS_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
    )
    yield app
    shutdown(app)


AUTH_API, AUTH_LOGINS = published_schema("auth")
TODO_API, TODO_LOGINS = published_schema("todo")


@pytest.fixture
def auth_logins(auth_app: Flask) -> Iterator[None]:
    """Accounts registered and logged in through the auth app's API; one admin."""
    client = auth_app.test_client()

    def user() -> Credentials:
        username, password = new_username(), new_password()
        response = client.post("/auth/register", json={"username": username, "password": password})
        assert response.status_code == 201, response.get_json()
        return _login(client, username, password)

    admin_name, admin_password = new_username("admin"), new_password()
    result = auth_app.test_cli_runner().invoke(
        args=["create-admin", admin_name], env={"AUTH_ADMIN_PASSWORD": admin_password}
    )
    assert result.exit_code == 0, result.output
    AUTH_LOGINS.use(user, admin=lambda: _login(client, admin_name, admin_password))
    yield
    AUTH_LOGINS.forget()


@pytest.fixture(scope="module")
def live_auth(
    mongo_uri: str, auth_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GunicornServer]:
    server = start_auth(
        mongo_uri=mongo_uri,
        db_name=f"{auth_db}_live",
        directory=tmp_path_factory.mktemp("live-auth"),
        production=False,
        RATE_LIMITS_ENABLED=False,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def todo_app(mongo_uri: str, todo_db: str, live_auth: GunicornServer) -> Iterator[Flask]:
    app = create_todo(
        {
            "ENV": "testing",
            "MONGO_URI": mongo_uri,
            "MONGO_DB_NAME": todo_db,
            "JWKS_URL": f"{live_auth.url}/.well-known/jwks.json",
            "REVOCATION_FEED_URL": f"{live_auth.url}/auth/revocations",
            "FEED_TOKEN": FEED_TOKEN,
            "REVOCATION_POLL_SECONDS": 1,
            "EVENT_FEED_URL": f"{live_auth.url}/auth/events",
            "LOG_LEVEL": "WARNING",
        }
    )
    yield app
    shutdown(app)


@pytest.fixture
def todo_logins(live_auth: GunicornServer) -> Iterator[None]:
    def user() -> Credentials:
        account = registered(live_auth.url)
        return Credentials(account.access_token, account.refresh_token)

    TODO_LOGINS.use(user)
    yield
    TODO_LOGINS.forget()


@AUTH_API.parametrize()
@pytest.mark.usefixtures("auth_logins")
def test_auth_api(case: schemathesis.Case, auth_app: Flask, request: pytest.FixtureRequest) -> None:
    known = expect_known_bugs(request, AUTH_KNOWN_BUGS, "in-process")
    call_in_process(case, auth_app, AUTH_LOGINS, known)


@pytest.mark.gunicorn
@TODO_API.parametrize()
@pytest.mark.usefixtures("todo_logins")
def test_todo_api(case: schemathesis.Case, todo_app: Flask, request: pytest.FixtureRequest) -> None:
    known = expect_known_bugs(request, TODO_KNOWN_BUGS, "in-process")
    call_in_process(case, todo_app, TODO_LOGINS, known)
