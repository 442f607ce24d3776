"""Schemathesis against each service as a live gunicorn process, over loopback, real auth.

auth's rate limiter stays on, with limits a fuzzer on one address can live with (every case
logs in anew); todo trusts that auth (JWKS + revocation feed).
The same published specs, checks and recorded bugs as the in-process run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from pymongo import MongoClient
from tests.contract.fuzzing import (
    AUTH_KNOWN_BUGS,
    TODO_KNOWN_BUGS,
    Credentials,
    call_live,
    expect_known_bugs,
    published_schema,
)
from tests.support.accounts import Account, LiveHttp, registered
from tests.support.devdb import ROOT
from tests.support.gunicorn import GunicornServer
from tests.support.openapi import deployment_urls
from tests.support.services import auth_and_todo

pytestmark = pytest.mark.gunicorn

AUTH_API, AUTH_LOGINS = published_schema("auth", coverage_phase=False)
TODO_API, TODO_LOGINS = published_schema("todo", coverage_phase=False)


@pytest.fixture(scope="module")
def servers(
    mongo_uri: str,
    mongo_client: MongoClient[dict[str, object]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[GunicornServer, GunicornServer]]:
    limits = {
        f"{action}_RATE_LIMIT_PER_{key}": "100000 per minute"
        for action in ("LOGIN", "REGISTER")
        for key in ("USERNAME", "ADDRESS")
    }
    with auth_and_todo(
        mongo_client,
        mongo_uri=mongo_uri,
        directory=tmp_path_factory.mktemp("live"),
        db_names=(f"test_{uuid.uuid4().hex[:12]}", f"test_{uuid.uuid4().hex[:12]}"),
        auth={"production": False, **limits},
        todo={"production": False},
    ) as servers:
        yield servers


@pytest.fixture
def live_logins(servers: tuple[GunicornServer, GunicornServer]) -> Iterator[None]:
    auth = servers[0]

    def user() -> Credentials:
        account = registered(auth.url)
        return Credentials(account.access_token, account.refresh_token)

    # An administrator made the way an operator does: auth's create-admin command.
    admin = Account(LiveHttp(auth.url))
    command = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "auth_service", "create-admin", admin.username],
        env={**auth.env, "AUTH_ADMIN_PASSWORD": admin.password},
        capture_output=True,
        text=True,
        check=False,
    )
    assert command.returncode == 0, command.stderr

    def admin_login() -> Credentials:
        admin.login()
        return Credentials(admin.access_token, admin.refresh_token)

    AUTH_LOGINS.use(user, admin=admin_login)
    TODO_LOGINS.use(user)
    yield
    AUTH_LOGINS.forget()
    TODO_LOGINS.forget()


def _server_errors(server: GunicornServer) -> list[str]:
    """Tracebacks a worker logged: a case may be answered well and still have crashed a view."""
    assert server.log_path is not None
    return [line for line in server.log_path.read_text().splitlines() if "Traceback" in line]


@AUTH_API.parametrize()
@pytest.mark.usefixtures("live_logins")
def test_auth_api_live(
    case: schemathesis.Case,
    servers: tuple[GunicornServer, GunicornServer],
    request: pytest.FixtureRequest,
) -> None:
    known = expect_known_bugs(request, AUTH_KNOWN_BUGS, "live")
    call_live(case, servers[0].url, AUTH_LOGINS, known)
    assert not _server_errors(servers[0])


@TODO_API.parametrize()
@pytest.mark.usefixtures("live_logins")
def test_todo_api_live(
    case: schemathesis.Case,
    servers: tuple[GunicornServer, GunicornServer],
    request: pytest.FixtureRequest,
) -> None:
    known = expect_known_bugs(request, TODO_KNOWN_BUGS, "live")
    call_live(case, servers[1].url, TODO_LOGINS, known)
    assert not _server_errors(servers[1])


def test_live_specs_are_the_published_ones(
    servers: tuple[GunicornServer, GunicornServer],
) -> None:
    """What gunicorn serves is the committed contract (not only what create_app builds), but
    for its server and token endpoint: the deployment's PUBLIC_URL and TOKEN_URL."""
    for server, service in ((servers[0], "auth"), (servers[1], "todo")):
        served = requests.get(f"{server.url}/openapi.json", timeout=10).json()
        published = json.loads((ROOT / "services" / service / "openapi.json").read_text())
        assert deployment_urls(served) == (server.url, f"{servers[0].url}/auth/token")
        assert deployment_urls(published)[0] != server.url
        assert served == published, service
