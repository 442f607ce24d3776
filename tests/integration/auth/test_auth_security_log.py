"""The security log: sign-ins, sessions ended, password and address changes, disabled accounts;
each written in the same transaction as the change it records, paged, erased with the account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient
from pymongo.errors import AutoReconnect
from tests.integration.auth.helpers import PASSWORD, bearer, claims_of, login, register
from tests.integration.auth.test_auth_admin import admin_headers
from tests.support.commands import next_link
from tests.support.problems import assert_problem

from auth_service.repositories import SecurityEventRepository

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
NEW_PASSWORD = "another fine passphrase"


def events(client: FlaskClient, token: str, url: str = "/auth/me/security-events") -> list[Any]:
    response = client.get(url, headers=bearer(token))
    assert response.status_code == 200, response.json
    found: list[dict[str, Any]] = response.json
    return found


def kinds(found: list[dict[str, Any]]) -> list[str]:
    return [each["type"] for each in found]


def session_id(tokens: dict[str, Any]) -> str:
    return str(claims_of(tokens["access_token"])["fid"])


def test_sign_ins_and_failed_sign_ins_are_logged_with_their_origin(client: FlaskClient) -> None:
    register(client)
    wrong = client.post(
        "/auth/login",
        json={"username": "alice", "password": "not the password"},
        headers={"User-Agent": FIREFOX},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    assert wrong.status_code == 401
    ok = client.post(
        "/auth/login",
        json={"username": "alice", "password": PASSWORD},
        headers={"User-Agent": FIREFOX},
        environ_base={"REMOTE_ADDR": "2001:db8::1"},
    )
    assert ok.status_code == 200

    signed_in, failed = events(client, ok.json["access_token"])

    assert signed_in["type"] == "sign_in"
    assert signed_in["session"] == session_id(ok.json)
    assert signed_in["address"] == "2001:db8::/64"
    assert failed["type"] == "sign_in_failed"
    assert failed["reason"] == "wrong_password"
    assert failed["session"] is None
    assert failed["address"] == "198.51.100.0/24"
    for each in (signed_in, failed):
        assert each["client"] == "Firefox on Linux"
        assert each["actor"] == "account"
        assert datetime.fromisoformat(each["at"]).utcoffset() == timedelta(0)
        assert set(each) == {"id", "type", "at", "session", "actor", "client", "address"} | (
            {"reason"} if each is failed else {"methods"}
        )
    assert signed_in["methods"] == ["pwd"]


def test_an_unknown_username_leaves_no_trace(
    client: FlaskClient, mongo_client: MongoClient[Any], db_name: str
) -> None:
    register(client)
    answer = client.post("/auth/login", json={"username": "nobody", "password": PASSWORD})
    assert answer.status_code == 401
    assert mongo_client[db_name].security_events.count_documents({}) == 0


def test_sessions_ended_are_logged_with_their_reason(client: FlaskClient) -> None:
    register(client)
    first, second, third = login(client), login(client), login(client)
    assert client.post("/auth/logout", headers=bearer(first["access_token"])).status_code == 204
    ended = client.delete(
        f"/auth/me/sessions/{session_id(second)}", headers=bearer(third["access_token"])
    )
    assert ended.status_code == 204

    found = events(client, third["access_token"])

    assert kinds(found)[:2] == ["session_ended", "session_ended"]
    assert [(each["session"], each["reason"]) for each in found[:2]] == [
        (session_id(second), "ended"),
        (session_id(first), "logout"),
    ]
    assert found[0]["actor"] == "account"


def test_a_reused_refresh_token_is_logged(make_auth_app: Callable[..., Flask]) -> None:
    client = make_auth_app(REFRESH_RETRY_GRACE_SECONDS=0).test_client()
    register(client)
    tokens = login(client)
    assert client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 200
    reuse = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert_problem(reuse, 401, "refresh_token_reused")

    found = events(client, login(client)["access_token"])

    assert kinds(found)[1:3] == ["session_ended", "refresh_token_reused"]
    assert found[1]["reason"] == "refresh_token_reused"
    assert {found[1]["session"], found[2]["session"]} == {session_id(tokens)}


def test_password_and_address_changes_are_logged(client: FlaskClient) -> None:
    register(client)
    tokens = login(client)
    changed = client.patch(
        "/auth/me",
        json={"email": "alice@example.org", "password": PASSWORD},
        headers=bearer(tokens["access_token"]),
    )
    assert changed.status_code == 200
    password = client.post(
        "/auth/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(tokens["access_token"]),
    )
    assert password.status_code == 204

    found = events(client, login(client, password=NEW_PASSWORD)["access_token"])

    assert kinds(found) == ["sign_in", "password_changed", "email_changed", "sign_in"]
    assert found[1]["session"] == found[2]["session"] == session_id(tokens)


def test_a_change_whose_log_entry_fails_does_not_happen(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction: no password change without its entry, and no entry without it."""
    register(client)
    tokens = login(client)
    append = SecurityEventRepository.append

    def append_then_fail(self: SecurityEventRepository, **kwargs: Any) -> None:
        append(self, **kwargs)
        raise AutoReconnect("the database went away after the entry")

    monkeypatch.setattr(SecurityEventRepository, "append", append_then_fail)
    failed = client.post(
        "/auth/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(tokens["access_token"]),
    )
    monkeypatch.undo()

    assert_problem(failed, 503)
    # The password, the account's tokens and its log are as they were.
    assert client.get("/auth/me", headers=bearer(tokens["access_token"])).status_code == 200
    assert_problem(
        client.post("/auth/login", json={"username": "alice", "password": NEW_PASSWORD}), 401
    )
    assert kinds(events(client, tokens["access_token"])) == ["sign_in_failed", "sign_in"]


def test_admins_read_any_log_and_disabling_is_logged(app: Flask, client: FlaskClient) -> None:
    user = register(client)
    tokens = login(client)
    admin = admin_headers(app, client)
    url = f"/auth/users/{user['id']}/security-events"
    assert_problem(client.get(url, headers=bearer(tokens["access_token"])), 403, "admin_required")
    assert_problem(
        client.get("/auth/users/0123456789abcdef01234567/security-events", headers=admin), 404
    )

    assert client.post(f"/auth/users/{user['id']}/disable", headers=admin).status_code == 200

    found = events(client, admin["Authorization"].split()[1], url)
    assert kinds(found) == ["account_disabled", "sign_in"]
    assert found[0]["actor"] == "admin"
    assert found[1]["session"] == session_id(tokens)


def test_the_log_is_paged_kept_for_its_retention_and_erased_with_the_account(
    make_auth_app: Callable[..., Flask], mongo_client: MongoClient[Any], db_name: str
) -> None:
    client = make_auth_app(SECURITY_EVENT_RETENTION_SECONDS=3600).test_client()
    user = register(client)
    logins = [login(client) for _ in range(3)]
    token = logins[-1]["access_token"]

    first = client.get("/auth/me/security-events?page_size=2", headers=bearer(token))
    assert first.status_code == 200
    link = next_link(first)
    assert link is not None
    second = client.get(link, headers=bearer(token))
    assert next_link(second) is None
    assert [each["session"] for each in first.json + second.json] == [
        session_id(each) for each in reversed(logins)
    ]
    stored = mongo_client[db_name].security_events.find_one({"user_id": user["id"]})
    assert stored is not None
    assert stored["expires_at"] - stored["at"] == timedelta(seconds=3600)

    deleted = client.delete("/auth/me", json={"password": PASSWORD}, headers=bearer(token))
    assert deleted.status_code == 204
    assert mongo_client[db_name].security_events.count_documents({"user_id": user["id"]}) == 0
