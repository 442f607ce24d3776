"""GET /auth/revocations: the contract other services poll to learn of revocations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.integration.auth.helpers import PASSWORD, bearer, claims_of, login, register

FEED_TOKEN = "a-feed-token-of-at-least-32-characters!"


@pytest.fixture
def app(make_auth_app: Any) -> Flask:
    app: Flask = make_auth_app(FEED_TOKEN=FEED_TOKEN)
    return app


def feed(client: FlaskClient, query: str = "") -> Any:
    return client.get(f"/auth/revocations{query}", headers=bearer(FEED_TOKEN))


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_feed_needs_the_service_token(client: FlaskClient, tokens: dict[str, Any]) -> None:
    for headers in ({}, bearer("wrong"), bearer(tokens["access_token"]), bearer("change-me")):
        response = client.get("/auth/revocations", headers=headers)
        assert response.status_code == 401
        assert response.json["code"] == "invalid_feed_token"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_scheme_s_name_is_case_insensitive(client: FlaskClient) -> None:
    # RFC 9110 section 11.1, as the services' own bearer tokens have it (found from outside).
    for scheme in ("bearer", "BEARER"):
        answer = client.get(
            "/auth/revocations", headers={"Authorization": f"{scheme} {FEED_TOKEN}"}
        )
        assert answer.status_code == 200, (scheme, answer.json)


def test_a_token_with_any_visible_characters_is_taken(make_auth_app: Any) -> None:
    # A generated secret may hold "=" mid-way: Werkzeug reads "Bearer a=b" as parameters
    # and gives no token (found by review: such a FEED_TOKEN was never accepted).
    token = "abc=def+ghi/jkl=" * 3
    client = make_auth_app(FEED_TOKEN=token).test_client()
    answer = client.get("/auth/revocations", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.json
    wrong = client.get("/auth/revocations", headers={"Authorization": f"Bearer {token}x"})
    assert wrong.status_code == 401


def test_feed_lists_each_kind_of_revocation(client: FlaskClient, tokens: dict[str, Any]) -> None:
    assert feed(client).json["items"] == []
    access = claims_of(tokens["access_token"])
    client.post("/auth/logout", headers=bearer(tokens["access_token"]))
    session = login(client)
    deleted = client.delete(
        "/auth/me", json={"password": PASSWORD}, headers=bearer(session["access_token"])
    )
    assert deleted.status_code == 204

    response = feed(client)
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"now", "has_more", "items"}
    assert body["has_more"] is False
    assert parse(body["now"]).tzinfo is not None
    items = {item["kind"]: item for item in body["items"]}
    assert set(items) == {"token", "family", "subject"}
    assert items["token"]["value"] == access["jti"]
    assert items["family"]["value"] == access["fid"]
    assert items["subject"]["value"] == access["sub"]
    assert "not_before" not in items["token"]
    assert "not_before" not in items["family"]
    assert "version" not in items["token"]
    # Every token of the account carries ver 0; the deletion raised the account's version.
    assert items["subject"]["version"] == 1
    assert access["ver"] == 0
    # The token's record lives until the token would have expired anyway.
    assert parse(items["token"]["expires_at"]) >= datetime.fromtimestamp(access["exp"], UTC)
    # And every token issued so far has iat <= not_before.
    not_before = parse(items["subject"]["not_before"])
    assert not_before.timestamp() >= access["iat"]
    assert parse(items["subject"]["expires_at"]) >= not_before + timedelta(days=30)
    revoked = [parse(item["revoked_at"]) for item in body["items"]]
    assert revoked == sorted(revoked)
    assert all(item["revoked_at"].endswith("Z") for item in body["items"])


def test_feed_pages_with_since_and_limit(client: FlaskClient) -> None:

    register(client)
    sessions = [login(client) for _ in range(3)]
    for session in sessions:
        client.post("/auth/logout", headers=bearer(session["access_token"]))
    everything = feed(client).json["items"]
    assert len(everything) == 6

    first = feed(client, "?limit=4").json
    assert first["has_more"] is True
    assert first["items"] == everything[:4]
    since = first["items"][-1]["revoked_at"]
    rest = feed(client, f"?since={since}").json
    assert rest["has_more"] is False
    assert rest["items"][0]["revoked_at"] == since  # since is inclusive
    assert everything[4:] == [item for item in rest["items"] if item not in first["items"]]
    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert feed(client, f"?since={future.replace('+00:00', 'Z')}").json["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        "?limit=0",
        "?limit=5001",
        "?limit=ten",
        "?since=yesterday",
        "?evil=1",
        # Valid as written, before year 1 in UTC (found from outside: a 500).
        "?since=0001-01-01T00:00:00%2B14:00",
    ],
)
def test_feed_rejects_bad_parameters(client: FlaskClient, query: str) -> None:
    response = feed(client, query)
    assert response.status_code == 422
    assert response.json["errors"]["query"]


def test_feed_forgets_expired_revocations(make_auth_app: Any, mongo_client: Any) -> None:
    app = make_auth_app(FEED_TOKEN=FEED_TOKEN)
    client = app.test_client()

    register(client)
    session = login(client)
    client.post("/auth/logout", headers=bearer(session["access_token"]))
    revocations = mongo_client[app.config["MONGO_DB_NAME"]]["revocations"]
    revocations.update_many({}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}})
    assert feed(client).json["items"] == []
