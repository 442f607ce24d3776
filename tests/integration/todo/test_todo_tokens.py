"""Trusting auth's tokens: forged or invalid ones are 401; keys come from auth's JWKS."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from tests.integration.todo.conftest import Caller
from tests.support import AppFactory
from tests.support.devdb import free_port
from tests.support.tokens import IssuerServer, TokenIssuer

from todo_service import create_app

NO_FEED = {"REVOCATION_FEED_URL": ""}


def _get(app_or_client: Any, token: str | None) -> Any:
    client = app_or_client.test_client() if isinstance(app_or_client, Flask) else app_or_client
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get("/todos", headers=headers)


def _assert_401(response: Any, code: str = "invalid_token") -> None:
    assert response.status_code == 401, response.json
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="todo"')


def test_a_valid_access_token_is_accepted(alice: Caller) -> None:
    assert alice.get("/todos").status_code == 200


def test_no_token_is_401(client: Any) -> None:
    response = _get(client, None)
    _assert_401(response, "missing_token")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="todo"'


def test_a_token_in_the_query_string_is_not_read(client: Any, issuer: TokenIssuer) -> None:
    token = issuer.access_token("u1")
    _assert_401(client.get(f"/todos?access_token={token}"), "missing_token")
    _assert_401(client.get("/todos", headers={"Authorization": token}), "missing_token")


FORGERIES = {
    "alg_none": lambda i: i.alg_none("u1"),
    "hs256_with_public_key": lambda i: i.hs256_with_public_key("u1"),
    "tampered": lambda i: i.tampered("u1", as_sub="u2"),
    "jku": lambda i: i.with_header("u1", jku="http://evil.example/jwks.json"),
    "x5u": lambda i: i.with_header("u1", x5u="http://evil.example/cert.pem"),
    "jwk": lambda i: i.with_header("u1", jwk=i.key.jwk),
    "path_kid": lambda i: i.with_header("u1", kid="../../etc/passwd"),
    "unknown_kid": lambda i: i.unknown_kid("u1"),
    "wrong_issuer": lambda i: i.wrong_issuer("u1"),
    "wrong_audience": lambda i: i.wrong_audience("u1"),
    "not_yet_valid": lambda i: i.not_yet_valid("u1"),
    "refresh_token": lambda i: i.refresh_token("u1"),
    "no_type": lambda i: i.access_token("u1", type=None),
    "other_type": lambda i: i.access_token("u1", type="id"),
    "no_exp": lambda i: i.access_token("u1", exp=None),
    "no_jti": lambda i: i.access_token("u1", jti=None),
    "no_fid": lambda i: i.access_token("u1", fid=None),
    "no_sub": lambda i: i.sign(i.claims(None)),
    "numeric_sub": lambda i: i.sign(i.claims(12)),
    "garbage": lambda _i: "not.a.token",
}


@pytest.mark.parametrize("name", FORGERIES)
def test_forged_and_invalid_tokens_are_401(client: Any, issuer: TokenIssuer, name: str) -> None:
    _assert_401(_get(client, FORGERIES[name](issuer)))
    # And nothing of the attacker's was created or listed.
    assert client.get("/todos").status_code == 401


def test_an_expired_token_is_401_token_expired(client: Any, issuer: TokenIssuer) -> None:
    _assert_401(_get(client, issuer.expired("u1")), "token_expired")


def test_keys_are_fetched_once_and_cached(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    app = todo_factory(**NO_FEED)
    issuer = auth_server.issuer
    assert auth_server.jwks_hits == 0  # nothing is fetched before it is needed
    for _ in range(3):
        assert _get(app, issuer.access_token("u1")).status_code == 200
    assert auth_server.jwks_hits == 1


def test_an_unknown_kid_refreshes_the_keys(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    app = todo_factory(JWKS_REFRESH_COOLDOWN_SECONDS=0, **NO_FEED)
    issuer = auth_server.issuer
    old_token = issuer.access_token("u1")
    assert _get(app, old_token).status_code == 200
    issuer.rotate()
    assert _get(app, issuer.access_token("u1")).status_code == 200
    assert auth_server.jwks_hits == 2
    assert _get(app, old_token).status_code == 200  # the old key still verifies


def test_refreshes_for_unknown_kids_are_rate_limited(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    app = todo_factory(JWKS_REFRESH_COOLDOWN_SECONDS=60, **NO_FEED)
    issuer = auth_server.issuer
    assert _get(app, issuer.access_token("u1")).status_code == 200
    for _ in range(5):
        _assert_401(_get(app, issuer.unknown_kid("u1")))
    assert auth_server.jwks_hits == 1


def test_the_last_good_keys_are_kept_while_auth_is_down(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    app = todo_factory(JWKS_CACHE_SECONDS=0.2, JWKS_TIMEOUT_SECONDS=0.5, **NO_FEED)
    token = auth_server.issuer.access_token("u1")
    assert _get(app, token).status_code == 200
    auth_server.stop()
    time.sleep(0.3)  # the cached set has expired; refetching fails
    assert _get(app, token).status_code == 200
    _assert_401(_get(app, auth_server.issuer.unknown_kid("u1")))


def test_keys_never_obtained_is_503_not_500(make_app: AppFactory, issuer: TokenIssuer) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    app = make_app(create_app, JWKS_URL=nowhere, JWKS_TIMEOUT_SECONDS=0.5, **NO_FEED)
    response = _get(app, issuer.access_token("u1"))
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "2"
    assert "keys" in response.json["detail"]
    assert app.test_client().get("/livez").status_code == 200


@pytest.mark.parametrize("form", ["jwks", "pem"])
def test_keys_from_a_file(
    make_app: AppFactory, issuer: TokenIssuer, tmp_path: Path, form: str
) -> None:
    path = tmp_path / f"keys.{form}"
    path.write_text(json.dumps(issuer.jwks()) if form == "jwks" else issuer.key.public_pem)
    nowhere = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    app = make_app(create_app, JWKS_FILE=str(path), JWKS_URL=nowhere, **NO_FEED)
    assert _get(app, issuer.access_token("u1")).status_code == 200
    _assert_401(_get(app, issuer.unknown_kid("u1")))
    _assert_401(_get(app, issuer.hs256_with_public_key("u1")))
