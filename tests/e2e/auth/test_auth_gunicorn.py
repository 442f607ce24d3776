"""The auth service under a real gunicorn master with two workers, on the dev database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import MongoClient
from tests.support.gunicorn import GunicornServer

pytestmark = pytest.mark.gunicorn

PASSWORD = "correct horse battery staple"
LOGIN_LIMIT = 5


@pytest.fixture(scope="module")
def service_env(
    mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    db_name = f"test_e2e_auth_{uuid.uuid4().hex[:8]}"
    env = {
        "AUTH_ENV": "testing",
        "AUTH_MONGO_URI": mongo_uri,
        "AUTH_MONGO_DB_NAME": db_name,
        "AUTH_INSTANCE_PATH": str(tmp_path_factory.mktemp("auth-instance")),
        "AUTH_LOG_LEVEL": "WARNING",
        "AUTH_REGISTER_RATE_LIMIT_PER_USERNAME": "1000 per minute",
        "AUTH_REGISTER_RATE_LIMIT_PER_ADDRESS": "1000 per minute",
        "AUTH_LOGIN_RATE_LIMIT_PER_ADDRESS": "1000 per minute",
        "AUTH_LOGIN_RATE_LIMIT_PER_USERNAME": f"{LOGIN_LIMIT} per minute",
    }
    yield env
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    client.drop_database(db_name)
    client.close()


@pytest.fixture(scope="module")
def server(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("logs") / "gunicorn.log"
    with GunicornServer("auth_service.wsgi:app", service_env, workers=2, log_path=log) as running:
        assert len(running.worker_pids()) == 2
        yield running.url


def register(url: str, username: str) -> requests.Response:
    return requests.post(
        f"{url}/auth/register", json={"username": username, "password": PASSWORD}, timeout=10
    )


def login(url: str, username: str, password: str = PASSWORD) -> requests.Response:
    return requests.post(
        f"{url}/auth/login", json={"username": username, "password": password}, timeout=10
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_full_session_flow(server: str) -> None:
    created = register(server, "flow-user")
    assert created.status_code == 201
    assert "argon2" not in created.text
    session = login(server, "flow-user")
    assert session.status_code == 200
    assert session.headers["Cache-Control"] == "no-store"
    tokens = session.json()
    me = requests.get(f"{server}/auth/me", headers=bearer(tokens["access_token"]), timeout=10)
    assert me.json()["username"] == "flow-user"
    refreshed = requests.post(
        f"{server}/auth/refresh", headers=bearer(tokens["refresh_token"]), timeout=10
    )
    assert refreshed.status_code == 200
    assert refreshed.headers["Cache-Control"] == "no-store"
    new = refreshed.json()
    out = requests.post(f"{server}/auth/logout", headers=bearer(new["access_token"]), timeout=10)
    assert out.status_code == 204
    # Whichever worker answers, the revocation is in the database.
    for _ in range(4):
        after = requests.get(f"{server}/auth/me", headers=bearer(new["access_token"]), timeout=10)
        assert after.status_code == 401
        assert after.headers["WWW-Authenticate"].startswith("Bearer")
    keys = requests.get(f"{server}/.well-known/jwks.json", timeout=10).json()["keys"]
    assert len(keys) == 1  # both workers share the one generated dev key


def test_concurrent_registration_of_one_username(server: str) -> None:
    names = ["race", "RACE", " Race ", "race", "rAce", "race", "RACE", "race"] * 2
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        statuses = sorted(pool.map(lambda name: register(server, name).status_code, names))
    assert statuses == [201] + [409] * (len(names) - 1)


def test_concurrent_refresh_of_one_token(server: str) -> None:
    assert register(server, "refresher").status_code == 201
    refresh_token = login(server, "refresher").json()["refresh_token"]

    def refresh(_: int) -> tuple[int, str]:
        response = requests.post(
            f"{server}/auth/refresh", headers=bearer(refresh_token), timeout=10
        )
        return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(refresh, range(10)))
    # Exactly one rotation: every concurrent use within the retry grace gets its one pair.
    assert [status for status, _ in answers] == [200] * 10
    assert len({body for _, body in answers}) == 1
    successor = json.loads(answers[0][1])["refresh_token"]
    assert (
        requests.post(f"{server}/auth/refresh", headers=bearer(successor), timeout=10).status_code
        == 200
    )


def test_login_limit_is_shared_by_the_workers(server: str) -> None:
    assert register(server, "limited").status_code == 201
    attempts = LOGIN_LIMIT * 3
    # Concurrent requests keep both sync workers busy, so both count attempts.
    with ThreadPoolExecutor(max_workers=attempts) as pool:
        responses = list(
            pool.map(lambda _: login(server, "limited", "wrong password"), range(attempts))
        )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [401] * LOGIN_LIMIT + [429] * (attempts - LOGIN_LIMIT)
    limited = next(response for response in responses if response.status_code == 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["code"] == "rate_limited"


def test_create_admin_command(server: str, service_env: dict[str, str]) -> None:
    flask = Path(sys.executable).parent / "flask"
    result = subprocess.run(
        [str(flask), "--app", "auth_service", "create-admin", "operator"],
        env={**os.environ, **service_env, "AUTH_ADMIN_PASSWORD": "operator passphrase 1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Created admin operator" in result.stdout
    token = login(server, "operator", "operator passphrase 1").json()["access_token"]
    users = requests.get(f"{server}/auth/users", headers=bearer(token), timeout=10)
    assert users.status_code == 200
    assert "operator" in [user["username"] for user in users.json()]
