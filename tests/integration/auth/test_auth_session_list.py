"""Signed-in sessions: each login is one, listed for its owner (and admins), ended one at a time
or all but the current one; ending one revokes its tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from bson import ObjectId
from flask import Flask
from flask.testing import FlaskClient
from tests.integration.auth.helpers import PASSWORD, bearer, claims_of, login, register
from tests.integration.auth.test_auth_admin import admin_headers
from tests.support.commands import next_link
from tests.support.problems import assert_problem

from auth_service.origin import coarse_network, describe_client
from auth_service.repositories import sessions as session_records
from factory_core import mongo

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def login_from(client: FlaskClient, user_agent: str, username: str = "alice") -> dict[str, Any]:
    response = client.post(
        "/auth/login",
        json={"username": username, "password": PASSWORD},
        headers={"User-Agent": user_agent},
        environ_base={"REMOTE_ADDR": "203.0.113.57"},
    )
    assert response.status_code == 200, response.json
    tokens: dict[str, Any] = response.json
    return tokens


def listed(client: FlaskClient, token: str, url: str = "/auth/me/sessions") -> list[dict[str, Any]]:
    response = client.get(url, headers=bearer(token))
    assert response.status_code == 200, response.json
    found: list[dict[str, Any]] = response.json
    return found


def session_id(tokens: dict[str, Any]) -> str:
    return str(claims_of(tokens["access_token"])["fid"])


def test_each_login_is_a_session_listed_newest_first_with_the_caller_s_marked(
    client: FlaskClient,
) -> None:
    register(client)
    laptop = login_from(client, FIREFOX)
    phone = login_from(client, IPHONE)
    register(client, "bob")
    login(client, "bob")

    found = listed(client, phone["access_token"])

    assert [each["id"] for each in found] == [session_id(phone), session_id(laptop)]
    assert [each["current"] for each in found] == [True, False]
    assert found[0]["client"] == "Mobile Safari on iOS"
    assert found[1]["client"] == "Firefox on Linux"
    assert {each["address"] for each in found} == {"203.0.113.0/24"}
    for each in found:
        assert set(each) == {
            "id",
            "created_at",
            "last_used_at",
            "expires_at",
            "client",
            "address",
            "current",
        }
        created = datetime.fromisoformat(each["created_at"])
        assert created.utcoffset() is not None
        assert datetime.fromisoformat(each["last_used_at"]) == created
        assert datetime.fromisoformat(each["expires_at"]) > created
    assert listed(client, laptop["access_token"])[1]["current"] is True


def test_a_refresh_is_the_session_s_last_use(client: FlaskClient) -> None:
    register(client)
    tokens = login_from(client, FIREFOX)
    [before] = listed(client, tokens["access_token"])

    refreshed = client.post(
        "/auth/refresh",
        headers={**bearer(tokens["refresh_token"]), "User-Agent": IPHONE},
        environ_base={"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"},
    )
    assert refreshed.status_code == 200
    [after] = listed(client, refreshed.json["access_token"])

    assert after["id"] == before["id"]
    assert after["created_at"] == before["created_at"]
    assert after["last_used_at"] > before["last_used_at"]
    assert after["expires_at"] > before["expires_at"]
    assert after["client"] == "Mobile Safari on iOS"
    assert after["address"] == "2001:db8:1:2::/64"
    assert after["current"] is True


def test_ending_a_session_revokes_its_tokens_and_only_its(client: FlaskClient) -> None:
    register(client)
    laptop, phone = login(client), login(client)

    ended = client.delete(
        f"/auth/me/sessions/{session_id(phone)}", headers=bearer(laptop["access_token"])
    )

    assert ended.status_code == 204
    assert_problem(
        client.get("/auth/me", headers=bearer(phone["access_token"])), 401, "token_revoked"
    )
    assert_problem(
        client.post("/auth/refresh", headers=bearer(phone["refresh_token"])), 401, "token_revoked"
    )
    assert [each["id"] for each in listed(client, laptop["access_token"])] == [session_id(laptop)]
    again = client.delete(
        f"/auth/me/sessions/{session_id(phone)}", headers=bearer(laptop["access_token"])
    )
    assert_problem(again, 404, "session_not_found")


def test_another_user_s_session_is_not_found_and_keeps_working(client: FlaskClient) -> None:
    register(client)
    register(client, "bob")
    alice, bob = login(client), login(client, "bob")

    for session in (session_id(bob), "0" * 32, "not-a-session"):
        attempt = client.delete(
            f"/auth/me/sessions/{session}", headers=bearer(alice["access_token"])
        )
        assert_problem(attempt, 404, "session_not_found")

    assert client.get("/auth/me", headers=bearer(bob["access_token"])).status_code == 200


def test_ending_all_other_sessions_keeps_the_current_one(client: FlaskClient) -> None:
    register(client)
    others = [login(client) for _ in range(3)]
    current = login(client)

    response = client.delete("/auth/me/sessions", headers=bearer(current["access_token"]))

    assert response.status_code == 204
    for tokens in others:
        assert_problem(client.get("/auth/me", headers=bearer(tokens["access_token"])), 401)
    assert client.get("/auth/me", headers=bearer(current["access_token"])).status_code == 200
    assert [each["id"] for each in listed(client, current["access_token"])] == [session_id(current)]


def test_logout_and_a_password_change_end_sessions(client: FlaskClient) -> None:
    register(client)
    first, second = login(client), login(client)
    assert client.post("/auth/logout", headers=bearer(first["access_token"])).status_code == 204
    assert [each["id"] for each in listed(client, second["access_token"])] == [session_id(second)]

    changed = client.post(
        "/auth/me/password",
        json={"current_password": PASSWORD, "new_password": "another fine passphrase"},
        headers=bearer(second["access_token"]),
    )
    assert changed.status_code == 204
    after = login(client, password="another fine passphrase")
    assert [each["id"] for each in listed(client, after["access_token"])] == [session_id(after)]


def test_sessions_are_paged_with_cursors(client: FlaskClient) -> None:
    register(client)
    logins = [login(client) for _ in range(3)]
    token = logins[-1]["access_token"]

    first = client.get("/auth/me/sessions?page_size=2", headers=bearer(token))
    assert first.status_code == 200
    link = next_link(first)
    assert link is not None
    second = client.get(link, headers=bearer(token))
    assert second.status_code == 200
    assert next_link(second) is None
    ids = [each["id"] for each in first.json + second.json]
    assert ids == [session_id(each) for each in reversed(logins)]
    assert_problem(client.get("/auth/me/sessions?page_size=0", headers=bearer(token)), 422)
    assert_problem(client.get("/auth/me/sessions?after=forged", headers=bearer(token)), 400)
    assert_problem(client.get("/auth/me/sessions"), 401)


def test_a_session_from_before_sessions_were_recorded_is_listed_from_its_next_refresh(
    app: Flask, client: FlaskClient
) -> None:
    register(client)
    tokens = login(client)
    with app.app_context():
        mongo.collection("sessions").delete_many({})  # as if logged in before this release
    assert listed(client, tokens["access_token"]) == []

    refreshed = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])).json

    [found] = listed(client, refreshed["access_token"])
    assert found["id"] == session_id(tokens)
    assert found["current"] is True


def test_a_refresh_racing_the_end_of_its_session_does_not_bring_it_back(
    app: Flask, client: FlaskClient
) -> None:
    user = register(client)
    tokens = login(client)
    with app.test_request_context():
        session_records.end(user_id=user["id"], session_ids=[session_id(tokens)])
        session_records.touch(
            session_id=session_id(tokens),
            user_id=user["id"],
            client="Firefox on Linux",
            address="203.0.113.0/24",
            expires_at=datetime.fromisoformat("2100-01-01T00:00:00+00:00"),
        )
        assert session_records.live_ids(user_id=user["id"]) == []


def test_admins_list_and_end_any_account_s_sessions(app: Flask, client: FlaskClient) -> None:
    user = register(client)
    tokens = login(client)
    admin = admin_headers(app, client)
    url = f"/auth/users/{user['id']}/sessions"

    found = client.get(url, headers=admin)
    assert found.status_code == 200
    assert [each["id"] for each in found.json] == [session_id(tokens)]
    assert found.json[0]["current"] is False

    assert_problem(client.get(url, headers=bearer(tokens["access_token"])), 403, "admin_required")
    unknown_user = "0123456789abcdef01234567"
    assert_problem(client.get(f"/auth/users/{unknown_user}/sessions", headers=admin), 404)
    assert_problem(client.delete(f"{url}/{'0' * 32}", headers=admin), 404, "session_not_found")

    assert client.delete(f"{url}/{session_id(tokens)}", headers=admin).status_code == 204
    assert_problem(client.get("/auth/me", headers=bearer(tokens["access_token"])), 401)
    assert client.get(url, headers=admin).json == []


def test_deleting_the_account_erases_its_sessions_and_known_addresses(
    app: Flask, client: FlaskClient
) -> None:
    user = register(client)
    tokens = login(client)
    with app.app_context():
        known = {"user_id": ObjectId(user["id"])}
        assert mongo.collection("trusted_addresses").count_documents(known) == 1
    deleted = client.delete(
        "/auth/me", json={"password": PASSWORD}, headers=bearer(tokens["access_token"])
    )
    assert deleted.status_code == 204
    with app.app_context():
        assert mongo.collection("sessions").count_documents({"user_id": user["id"]}) == 0
        # Found by make scale-test: the addresses outlived the account until they expired.
        assert mongo.collection("trusted_addresses").count_documents(known) == 0


@pytest.mark.parametrize(
    ("user_agent", "described"),
    [
        (FIREFOX, "Firefox on Linux"),
        (IPHONE, "Mobile Safari on iOS"),
        ("python-requests/2.32.3", "Python Requests"),
        ("", "Unknown client"),
        ("\x00" * 10_000, "Unknown client"),
    ],
)
def test_clients_are_described_coarsely(user_agent: str, described: str) -> None:
    assert describe_client(user_agent) == described


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.57", "203.0.113.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.57", "203.0.113.0/24"),
        ("unknown", "unknown"),
    ],
)
def test_addresses_are_coarsened_to_their_network(address: str, network: str) -> None:
    assert coarse_network(address) == network
