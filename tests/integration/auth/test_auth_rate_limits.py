"""Rate limits on login and registration: 429 problems with Retry-After, counted in MongoDB."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from tests.integration.auth.helpers import PASSWORD, bearer, login, register

from auth_service.ratelimit import WINDOWS, SharedClientMongoDBStorage


def attempt(client: FlaskClient, username: str = "alice", address: str = "10.0.0.1") -> Any:
    return client.post(
        "/auth/login",
        json={"username": username, "password": "wrong password"},
        environ_overrides={"REMOTE_ADDR": address},
    )


def assert_limited(response: Any) -> None:
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 3600


def test_login_is_limited_per_username(make_auth_app: Any) -> None:
    app = make_auth_app(LOGIN_RATE_LIMIT_PER_USERNAME="3 per minute")
    client = app.test_client()
    register(client)
    statuses = [attempt(client, address=f"10.0.0.{n}").status_code for n in range(3)]
    assert statuses == [401, 401, 401]
    # From a new address, with the right password, in another letter case: still limited.
    response = client.post(
        "/auth/login",
        json={"username": "ALICE", "password": PASSWORD},
        environ_overrides={"REMOTE_ADDR": "10.0.0.99"},
    )
    assert_limited(response)
    # Other accounts are not affected.
    assert attempt(client, username="bob", address="10.0.0.98").status_code == 401


def test_login_is_limited_per_address(make_auth_app: Any) -> None:
    app = make_auth_app(LOGIN_RATE_LIMIT_PER_ADDRESS="2 per minute")
    client = app.test_client()
    assert attempt(client, "anna").status_code == 401
    assert attempt(client, "bert").status_code == 401
    assert_limited(attempt(client, "carl"))
    assert attempt(client, "carl", address="10.0.0.2").status_code == 401


def test_register_is_limited(make_auth_app: Any) -> None:
    app = make_auth_app(REGISTER_RATE_LIMIT_PER_ADDRESS="2 per hour")
    client = app.test_client()
    register(client, "anna")
    register(client, "bert")
    response = client.post("/auth/register", json={"username": "carl", "password": PASSWORD})
    assert_limited(response)
    assert int(response.headers["Retry-After"]) > 60


def test_limits_are_shared_by_app_instances(make_auth_app: Any) -> None:
    # Two apps on one database stand for two workers or replicas.
    first = make_auth_app(LOGIN_RATE_LIMIT_PER_USERNAME="2 per minute").test_client()
    second = make_auth_app(LOGIN_RATE_LIMIT_PER_USERNAME="2 per minute").test_client()
    assert attempt(first).status_code == 401
    assert attempt(second).status_code == 401
    assert_limited(attempt(first))
    assert_limited(attempt(second))


def test_rate_limits_can_be_disabled_outside_production(make_auth_app: Any) -> None:
    app = make_auth_app(LOGIN_RATE_LIMIT_PER_USERNAME="1 per minute", RATE_LIMITS_ENABLED=False)
    client = app.test_client()
    assert [attempt(client).status_code for _ in range(3)] == [401, 401, 401]


def test_hits_leave_the_window_when_it_moves_on(app: Flask, mongo_client: Any) -> None:
    storage = SharedClientMongoDBStorage(app)
    with app.app_context():
        assert storage.acquire_entry("key", 2, 1)
        assert storage.acquire_entry("key", 2, 1)
        assert not storage.acquire_entry("key", 2, 1)
        start, count = storage.get_moving_window("key", 2, 1)
        assert count == 2
        assert time.time() - 5 < start <= time.time()
        time.sleep(1.1)
        assert storage.get_moving_window("key", 2, 1)[1] == 0
        assert storage.acquire_entry("key", 2, 1)
    windows = mongo_client[app.config["MONGO_DB_NAME"]][WINDOWS]
    assert "expireAt_ttl" in windows.index_information()  # MongoDB removes idle windows


def test_concurrent_hits_never_exceed_the_limit(app: Flask) -> None:
    storage = SharedClientMongoDBStorage(app)
    barrier = threading.Barrier(16)

    def hit(_: int) -> bool:
        with app.app_context():
            barrier.wait()
            return storage.acquire_entry("burst", 5, 60)

    with ThreadPoolExecutor(max_workers=16) as pool:
        granted = list(pool.map(hit, range(16)))
    # Each hit is one conditional update: never more than the limit. Racing first hits may
    # collide on the upsert and be refused, which errs on the safe side.
    assert 1 <= granted.count(True) <= 5
    with app.app_context():
        assert storage.get_moving_window("burst", 5, 60)[1] == granted.count(True)
        # Refused attempts leave no trace: one more is admitted exactly when the burst left room.
        assert storage.acquire_entry("burst", 5, 60) == (granted.count(True) < 5)


def _login_from(client: FlaskClient, address: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/auth/login",
        json={"username": "alice", "password": password},
        environ_overrides={"REMOTE_ADDR": address},
    )


def test_successful_logins_from_new_addresses_count_too(make_auth_app: Any) -> None:
    app = make_auth_app(LOGIN_RATE_LIMIT_PER_USERNAME="2 per minute")
    client = app.test_client()
    register(client)
    assert _login_from(client, "10.0.0.1").status_code == 200
    assert _login_from(client, "10.0.0.2").status_code == 200
    assert_limited(_login_from(client, "10.0.0.3"))


def test_a_stranger_cannot_lock_the_owner_out(make_auth_app: Any) -> None:
    """Exhausting the per-username limit does not bind addresses the owner logged in from."""
    app = make_auth_app(LOGIN_RATE_LIMIT_PER_USERNAME="3 per minute")
    client = app.test_client()
    register(client)
    assert _login_from(client, "10.1.1.1").status_code == 200  # the owner, at home
    statuses = [attempt(client, address="203.0.113.9").status_code for _ in range(4)]
    assert statuses == [401, 401, 429, 429]
    # The owner gets in from home, again and again; a wrong password there is still a 401.
    for _ in range(4):
        assert _login_from(client, "10.1.1.1").status_code == 200
    assert _login_from(client, "10.1.1.1", password="wrong password").status_code == 401
    # What is traded: from an address the account never logged in from, the limit binds.
    assert_limited(_login_from(client, "10.9.9.9"))


def test_trust_ends_with_a_password_change(make_auth_app: Any) -> None:
    app = make_auth_app(LOGIN_RATE_LIMIT_PER_USERNAME="2 per minute")
    client = app.test_client()
    register(client)
    fresh = _login_from(client, "10.1.1.1").json
    assert attempt(client, address="203.0.113.9").status_code == 401
    assert_limited(attempt(client, address="203.0.113.9"))
    assert _login_from(client, "10.1.1.1").status_code == 200  # trusted
    change = client.post(
        "/auth/me/password",
        json={"current_password": PASSWORD, "new_password": "another fine passphrase"},
        headers=bearer(fresh["access_token"]),
        environ_overrides={"REMOTE_ADDR": "10.1.1.1"},
    )
    assert change.status_code == 204
    # 10.1.1.1 knew the old password; it is not trusted with the new one.
    assert_limited(_login_from(client, "10.1.1.1", password="another fine passphrase"))


def test_an_ipv6_client_is_counted_by_its_64(make_auth_app: Any) -> None:
    app = make_auth_app(LOGIN_RATE_LIMIT_PER_ADDRESS="2 per minute")
    client = app.test_client()
    assert attempt(client, address="2001:db8:1:2::1").status_code == 401
    assert attempt(client, address="2001:db8:1:2:ffff::9").status_code == 401
    assert_limited(attempt(client, address="2001:db8:1:2:abcd::42"))  # same /64
    assert attempt(client, address="2001:db8:1:3::1").status_code == 401  # another /64


def test_password_checks_are_limited_per_session_not_by_login_attempts(
    make_auth_app: Any,
) -> None:
    app = make_auth_app(
        LOGIN_RATE_LIMIT_PER_USERNAME="2 per minute",
        PASSWORD_CHECK_RATE_LIMIT_PER_SESSION="2 per minute",
    )
    client = app.test_client()
    register(client)
    session = login(client)
    for _ in range(3):  # a stranger exhausts the login limit: password checks are unaffected
        attempt(client, address="203.0.113.9")

    def change(pair: dict[str, Any], current: str) -> Any:
        return client.post(
            "/auth/me/password",
            json={"current_password": current, "new_password": "another fine passphrase"},
            headers=bearer(pair["access_token"]),
        )

    assert change(session, "wrong password").status_code == 403
    assert change(session, "wrong password").status_code == 403
    assert_limited(change(session, PASSWORD))  # this session has used its checks
    assert change(login(client), PASSWORD).status_code == 204  # another session has its own
