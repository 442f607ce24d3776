"""Smoke: both services compose and answer their probes against the real dev database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from tests.support import AppFactory
from tests.support.tokens import IssuerServer, TokenIssuer

from auth_service import create_app as create_auth
from todo_service import create_app as create_todo


@pytest.mark.parametrize(
    ("create_app", "readiness"),
    [
        # "migrations": the last step applied (the database is at the code's version).
        (create_auth, {"mongo": "ok", "migrations": "0002_sessions"}),
        # todo trusts a stand-in issuer; it consumes auth's account events, none of them here.
        (
            create_todo,
            {
                "mongo": "ok",
                "migrations": "0002_tags_normalised",
                "keys": "1 keys",
                "revocations": "read 0 s ago",
                "events": "not read yet",
            },
        ),
    ],
)
def test_service_probes_and_docs(
    create_app: Callable[..., Flask], readiness: dict[str, str], make_app: AppFactory
) -> None:
    with IssuerServer(TokenIssuer()) as issuer:
        app = make_app(
            create_app,
            JWKS_URL=issuer.jwks_url,
            REVOCATION_FEED_URL=issuer.feed_url,
            EVENT_FEED_URL="http://127.0.0.1:9/auth/events",
        )
        client = app.test_client()
        assert client.get("/livez").json == {"status": "ok", "checks": {}}
        assert client.get("/readyz").json == {"status": "ok", "checks": readiness}
    assert client.get("/openapi.json").json["info"]["title"].endswith("API")
    assert client.get("/docs").status_code == 200
