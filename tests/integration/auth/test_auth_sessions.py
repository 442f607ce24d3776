"""Sessions: refresh rotation and reuse detection, logout, revocation that survives restarts."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient
from pymongo.errors import AutoReconnect
from tests.integration.auth.helpers import bearer, claims_of, login, register
from tests.support.keys import private_pem

from auth_service.repositories import RefreshTokenRepository
from factory_core import Held


def refresh(client: FlaskClient, token: str) -> Any:
    return client.post("/auth/refresh", headers=bearer(token))


def test_refresh_rotates_both_tokens(client: FlaskClient, tokens: dict[str, Any]) -> None:
    response = refresh(client, tokens["refresh_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    new = response.json
    assert new["refresh_token"] != tokens["refresh_token"]
    assert new["access_token"] != tokens["access_token"]
    access = claims_of(new["access_token"])
    assert access["fresh"] is False  # only a login makes fresh tokens
    assert access["fid"] == claims_of(tokens["access_token"])["fid"]
    assert client.get("/auth/me", headers=bearer(new["access_token"])).status_code == 200
    assert refresh(client, new["refresh_token"]).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_family(
    make_auth_app: Callable[..., Flask],
) -> None:
    client = make_auth_app(REFRESH_RETRY_GRACE_SECONDS=0).test_client()
    tokens = {**login_new_user(client)}
    rotated = refresh(client, tokens["refresh_token"]).json
    other_session = login(client)

    reuse = refresh(client, tokens["refresh_token"])
    assert reuse.status_code == 401
    assert reuse.json["code"] == "refresh_token_reused"
    assert reuse.headers["WWW-Authenticate"].startswith("Bearer")
    # Every token of that family is dead: the rotated pair and the original access token.
    for response in (
        refresh(client, rotated["refresh_token"]),
        client.get("/auth/me", headers=bearer(rotated["access_token"])),
        client.get("/auth/me", headers=bearer(tokens["access_token"])),
    ):
        assert response.status_code == 401
        assert response.json["code"] == "token_revoked"
    # Another login of the same user is another family: untouched.
    assert client.get("/auth/me", headers=bearer(other_session["access_token"])).status_code == 200


def login_new_user(client: FlaskClient) -> dict[str, Any]:
    register(client)
    return login(client)


def test_a_retry_within_the_grace_window_gets_the_same_pair(
    make_auth_app: Callable[..., Flask],
) -> None:
    client = make_auth_app(REFRESH_RETRY_GRACE_SECONDS=1).test_client()
    tokens = login_new_user(client)
    first = refresh(client, tokens["refresh_token"])
    retry = refresh(client, tokens["refresh_token"])  # the first answer was lost
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.json == first.json
    assert retry.headers["Cache-Control"] == "no-store"
    assert client.get("/auth/me", headers=bearer(retry.json["access_token"])).status_code == 200
    time.sleep(1.1)
    late = refresh(client, tokens["refresh_token"])  # past the grace window: reuse
    assert late.status_code == 401
    assert late.json["code"] == "refresh_token_reused"
    assert refresh(client, first.json["refresh_token"]).status_code == 401  # session ended


def test_a_retry_after_a_failed_refresh_does_not_end_the_session(
    client: FlaskClient, tokens: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim is made, then the database fails (503): the retry it invites must work."""

    def database_lost(*_args: Any, **_kwargs: Any) -> None:
        raise AutoReconnect("connection closed")

    with monkeypatch.context() as patch:
        patch.setattr(RefreshTokenRepository, "complete", database_lost)
        failed = refresh(client, tokens["refresh_token"])
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "2"
    retry = refresh(client, tokens["refresh_token"])
    assert retry.status_code == 200, retry.json
    assert client.get("/auth/me", headers=bearer(retry.json["access_token"])).status_code == 200
    assert refresh(client, retry.json["refresh_token"]).status_code == 200


def test_a_rotation_whose_request_died_is_finished_by_a_retry_within_the_grace_window(
    client: FlaskClient,
    tokens: dict[str, Any],
    mongo_client: MongoClient[dict[str, Any]],
    db_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first use claimed the token, then neither finished nor freed it (the database
    failed until after its 503, or its worker was killed): a client retrying as told must get
    a pair within the grace window, not be taken for a thief and logged out."""

    def database_lost(*_args: Any, **_kwargs: Any) -> None:
        raise AutoReconnect("connection closed")

    with monkeypatch.context() as patch:
        patch.setattr(RefreshTokenRepository, "complete", database_lost)
        patch.setattr(Held, "release", database_lost)
        assert refresh(client, tokens["refresh_token"]).status_code == 503
    uses = mongo_client[db_name]["refresh_token_uses"]
    use = uses.find_one({"_id": claims_of(tokens["refresh_token"])["jti"]})
    assert use is not None
    lease = use["lease_until"] - use["used_at"]
    answers = []
    for elapsed in range(2, 10, 2):  # seconds since the first use: a retry every 2 s
        used_at = datetime.now(UTC) - timedelta(seconds=elapsed)
        uses.update_one(
            {"_id": use["_id"]}, {"$set": {"used_at": used_at, "lease_until": used_at + lease}}
        )
        answer = refresh(client, tokens["refresh_token"])
        answers.append(answer.status_code)
        if answer.status_code != 409:  # 409: being rotated, retry later
            break
    assert answers[-1] == 200, answers
    assert refresh(client, answer.json["refresh_token"]).status_code == 200


def test_logout_revokes_the_access_token_and_its_family(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    other_session = login(client)
    response = client.post("/auth/logout", headers=bearer(tokens["access_token"]))
    assert response.status_code == 204
    assert response.get_data() == b""
    assert client.get("/auth/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert refresh(client, tokens["refresh_token"]).json["code"] == "token_revoked"
    assert client.get("/auth/me", headers=bearer(other_session["access_token"])).status_code == 200


def test_revocation_survives_a_restart(make_auth_app: Callable[..., Flask]) -> None:
    first = make_auth_app().test_client()
    register(first)
    session = login(first)
    assert first.post("/auth/logout", headers=bearer(session["access_token"])).status_code == 204

    # A new app instance (a restarted process) on the same database and keys.
    restarted = make_auth_app().test_client()
    response = restarted.get("/auth/me", headers=bearer(session["access_token"]))
    assert response.status_code == 401
    assert response.json["code"] == "token_revoked"
    assert refresh(restarted, session["refresh_token"]).status_code == 401
    assert "access_token" in login(restarted)


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return private_pem(key).decode()


def _public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_key_rotation_keeps_old_tokens_valid(make_auth_app: Callable[..., Flask]) -> None:
    old_key, new_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    before = make_auth_app(JWT_PRIVATE_KEY=_pem(old_key)).test_client()
    register(before)
    old_session = login(before)
    old_kid = before.get("/.well-known/jwks.json").json["keys"][0]["kid"]

    after = make_auth_app(JWT_PRIVATE_KEY=_pem(new_key), JWT_VERIFY_KEYS=_public_pem(old_key))
    client = after.test_client()
    kids = [key["kid"] for key in client.get("/.well-known/jwks.json").json["keys"]]
    assert len(kids) == 2
    assert kids[1] == old_kid
    new_session = login(client)
    assert kids[0] != old_kid
    # Tokens signed by the retired key still verify, and its refresh token still rotates.
    assert client.get("/auth/me", headers=bearer(old_session["access_token"])).status_code == 200
    assert refresh(client, old_session["refresh_token"]).status_code == 200

    # Once the old key is dropped, its tokens stop verifying (unknown kid).
    dropped = make_auth_app(JWT_PRIVATE_KEY=_pem(new_key)).test_client()
    response = dropped.get("/auth/me", headers=bearer(old_session["access_token"]))
    assert response.status_code == 401
    assert dropped.get("/auth/me", headers=bearer(new_session["access_token"])).status_code == 200


def test_jwks_publishes_public_members_only(client: FlaskClient, app: Flask) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    (key,) = response.json["keys"]
    assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert key["kty"] == "EC"
    assert key["crv"] == "P-256"
    assert key["alg"] == "ES256"
    assert key["use"] == "sig"
    assert len(key["kid"]) == 43
    assert key["kid"] == app.extensions["auth.keys"].signing_kid
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_the_dev_key_is_generated_once_into_the_instance_folder(
    make_auth_app: Callable[..., Flask], app: Flask
) -> None:
    path = f"{app.instance_path}/jwt-signing-key.pem"
    with open(path) as handle:
        assert "PRIVATE KEY" in handle.read()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = make_auth_app()
    assert again.extensions["auth.keys"].signing_kid == app.extensions["auth.keys"].signing_kid
