"""auth's account events: deleting an account publishes account.deleted, never lost, in order."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient
from tests.integration.auth.helpers import PASSWORD, bearer, login, register

from auth_service import account_events
from auth_service.repositories import EventRepository, events

# The module (its name is also the repository's instance, `events`).
event_log = importlib.import_module("auth_service.repositories.events")

FEED_TOKEN = "change-me"  # the testing default of FEED_TOKEN


def feed(client: FlaskClient, query: str = "") -> Any:
    return client.get(f"/auth/events{query}", headers=bearer(FEED_TOKEN))


def delete_account(client: FlaskClient, username: str) -> Any:
    session = login(client, username)
    return client.delete(
        "/auth/me", json={"password": PASSWORD}, headers=bearer(session["access_token"])
    )


def test_deleting_an_account_publishes_account_deleted(client: FlaskClient) -> None:
    assert feed(client).get_json() == {"events": [], "has_more": False, "head": 0, "oldest": None}
    alice, bob = register(client, "alice"), register(client, "bob")
    assert delete_account(client, "alice").status_code == 204
    assert delete_account(client, "bob").status_code == 204

    body = feed(client).get_json()
    assert [(e["sequence"], e["type"], e["subject"]) for e in body["events"]] == [
        (1, "account.deleted", alice["id"]),
        (2, "account.deleted", bob["id"]),
    ]
    assert (body["has_more"], body["head"], body["oldest"]) == (False, 2, 1)
    assert all(len(event["id"]) == 32 for event in body["events"])
    assert body["events"][0]["occurred_at"].endswith("Z")
    # Resumable: after a sequence, only what came later; a page at a time.
    assert [e["sequence"] for e in feed(client, "?after=1").get_json()["events"]] == [2]
    first = feed(client, "?limit=1").get_json()
    assert ([e["sequence"] for e in first["events"]], first["has_more"]) == ([1], True)


def test_the_feed_needs_the_service_token(client: FlaskClient) -> None:
    refused = client.get("/auth/events", headers=bearer("not-the-token"))
    assert refused.status_code == 401
    assert refused.get_json()["code"] == "invalid_feed_token"
    for query in ("?after=-1", "?limit=0", "?limit=1001", "?cursor=3"):
        assert feed(client, query).status_code == 422


def test_an_event_survives_auth_dying_between_recording_and_publishing(
    app: Flask,
    client: FlaskClient,
    mongo_client: MongoClient[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = register(client, "alice")
    session = login(client, "alice")

    def dies(*_args: Any, **_kwargs: Any) -> None:
        raise SystemError("auth's process dies here")

    with monkeypatch.context() as patch:
        patch.setattr(EventRepository, "publish", dies)
        crashed = client.delete(
            "/auth/me", json={"password": PASSWORD}, headers=bearer(session["access_token"])
        )
    assert crashed.status_code == 500
    # The account is gone for its owner already: no login, no token.
    assert (
        client.post("/auth/login", json={"username": "alice", "password": PASSWORD}).status_code
        == 401
    )
    assert client.get("/auth/me", headers=bearer(session["access_token"])).status_code == 401
    users = mongo_client[app.config["MONGO_DB_NAME"]]["users"]
    assert users.find_one({"username": "alice"})["deleting"] is True

    # The next read of the feed publishes it (once it is older than the relay delay).
    monkeypatch.setattr(account_events, "RELAY_AFTER", account_events.RELAY_AFTER * 0)
    published = feed(client).get_json()["events"]
    assert [(e["type"], e["subject"]) for e in published] == [("account.deleted", alice["id"])]
    assert users.find_one({"username": "alice"}) is None
    assert feed(client).get_json()["events"] == published  # published once
    register(client, "alice")  # the name is free again


def test_publishing_an_event_twice_appends_it_once(app: Flask) -> None:
    event = {"id": "e" * 32, "type": "account.deleted", "subject": "u1", "occurred_at": None}
    with app.app_context():
        retention = account_events.timedelta(days=1)
        events.publish(dict(event), retention=retention)
        events.publish(dict(event), retention=retention)
        found, _ = events.after(cursor=0, limit=10)
    assert [e["id"] for e in found] == [event["id"]]


def test_a_reader_never_passes_a_gap_that_may_still_fill(
    app: Flask, client: FlaskClient, mongo_client: MongoClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    register(client, "alice")
    register(client, "bob")
    assert delete_account(client, "alice").status_code == 204
    # A writer took number 2 and has not inserted it yet: bob's deletion gets 3.
    mongo_client[app.config["MONGO_DB_NAME"]]["counters"].update_one(
        {"_id": "account_events"}, {"$inc": {"value": 1}}
    )
    assert delete_account(client, "bob").status_code == 204
    body = feed(client).get_json()
    assert [e["sequence"] for e in body["events"]] == [1]
    assert (body["has_more"], body["head"]) == (False, 3)
    # Long enough after: number 2 can only be a writer that died; the reader moves on.
    monkeypatch.setattr(event_log, "HOLE_AFTER", event_log.HOLE_AFTER * 0)
    assert [e["sequence"] for e in feed(client, "?after=1").get_json()["events"]] == [3]
