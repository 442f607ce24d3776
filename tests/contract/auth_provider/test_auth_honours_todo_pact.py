"""auth verifies the pact todo's consumer tests wrote, as a real gunicorn process.

The pact is regenerated first by running todo's consumer tests (tests/contract/todo_consumer)
in a child pytest, so that this test never verifies a stale or missing file whatever order
xdist runs tests in. Provider states are set up here, in the test process: through auth's
public API (register, log in, log out, delete the account), after clearing auth's revocation
collection directly so each state's feed holds only what that state revoked. auth's code has
no test hooks.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pact import Verifier
from pymongo import MongoClient
from tests.contract import pacts
from tests.support import pytest_command
from tests.support.accounts import registered
from tests.support.devdb import ROOT
from tests.support.gunicorn import GunicornServer
from tests.support.services import start_auth

pytestmark = pytest.mark.gunicorn

REVOCATIONS = "revocations"  # auth_service.repositories.revocations.COLLECTION


@pytest.fixture(scope="module")
def pact_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh pact, written by todo's consumer tests."""
    directory = tmp_path_factory.mktemp("pacts")
    result = subprocess.run(
        pytest_command("tests/contract/todo_consumer"),
        cwd=ROOT,
        env={**os.environ, "PACT_DIR": str(directory)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert pacts.pact_file(directory).exists(), result.stdout
    return directory


@pytest.fixture(scope="module")
def auth_database(mongo_client: MongoClient[dict[str, object]]) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    mongo_client.drop_database(name)


@pytest.fixture(scope="module")
def auth(
    mongo_uri: str, auth_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GunicornServer]:
    server = start_auth(
        mongo_uri=mongo_uri,
        db_name=auth_database,
        directory=tmp_path_factory.mktemp("auth"),
        FEED_TOKEN=pacts.FEED_TOKEN,
    )
    yield server
    server.stop()


def test_auth_honours_todo_s_pact(
    pact_directory: Path,
    auth: GunicornServer,
    mongo_client: MongoClient[dict[str, object]],
    auth_database: str,
) -> None:
    revocations = mongo_client[auth_database][REVOCATIONS]

    def user_logged_out() -> None:
        revocations.delete_many({})
        account = registered(auth.url)
        response = requests.post(f"{auth.url}/auth/logout", headers=account.headers(), timeout=10)
        assert response.status_code == 204, response.text

    def account_deleted() -> None:
        revocations.delete_many({})
        account = registered(auth.url)
        response = requests.delete(
            f"{auth.url}/auth/me",
            json={"password": account.password},
            headers=account.headers(),
            timeout=10,
        )
        assert response.status_code == 204, response.text

    verifier = (
        Verifier(pacts.PROVIDER, host="127.0.0.1")
        .add_transport(url=auth.url)
        .add_source(pacts.pact_file(pact_directory))
        .state_handler(
            {
                pacts.HAS_SIGNING_KEY: lambda: None,
                pacts.USER_LOGGED_OUT: user_logged_out,
                pacts.ACCOUNT_DELETED: account_deleted,
            },
            teardown=False,
        )
    )
    try:
        verifier.verify()
    except Exception as error:
        pytest.fail(f"auth breaks todo's pact:\n{error}\n{verifier.output(strip_ansi=True)}")
    finally:
        # pact-python 4.2's state-callback server shuts down without closing its socket
        # (StateCallback.__exit__ lacks server_close()); close it, or it leaks a warning.
        state_server = getattr(getattr(verifier, "_state_handler", None), "_server", None)
        if state_server is not None:
            state_server.server_close()
    results = verifier.results
    assert results["result"] is True, json.dumps(results, indent=2)[:4000]


def test_the_pact_covers_every_auth_endpoint_todo_calls(pact_directory: Path) -> None:
    """A request todo makes that the pact does not describe is a request nobody verifies."""
    pact = json.loads(pacts.pact_file(pact_directory).read_text())
    paths = {interaction["request"]["path"] for interaction in pact["interactions"]}
    assert paths == {"/.well-known/jwks.json", "/auth/revocations", "/auth/events"}
    assert (pact["consumer"]["name"], pact["provider"]["name"]) == ("todo", "auth")
