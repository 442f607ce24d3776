"""The token claims todo relies on, on tokens a real auth issues (pact cannot see into JWTs).

The common brief's contract: ES256, typ JWT, kid = RFC 7638 thumbprint; iss, aud, sub (the
user id), iat, nbf, exp, jti, type, roles, fresh, fid, ver (the account's token version);
15-minute access and 30-day refresh tokens of one family. todo's own verifier must accept the
access token and refuse the refresh token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from pymongo import MongoClient
from tests.support.accounts import Account, registered
from tests.support.gunicorn import GunicornServer
from tests.support.services import FEED_TOKEN, start_auth

from factory_core.runtime.lifecycle import shutdown
from todo_service import create_app as create_todo

pytestmark = pytest.mark.gunicorn

CONTRACT_CLAIMS = {
    *("iss", "aud", "sub", "iat", "nbf", "exp", "jti", "type", "roles", "fresh", "fid", "ver")
}


@pytest.fixture(scope="module")
def auth(
    mongo_uri: str,
    mongo_client: MongoClient[dict[str, object]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GunicornServer]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    server = start_auth(
        mongo_uri=mongo_uri, db_name=name, directory=tmp_path_factory.mktemp("auth")
    )
    yield server
    server.stop()
    mongo_client.drop_database(name)


@pytest.fixture(scope="module")
def account(auth: GunicornServer) -> Account:
    return registered(auth.url)


def _decode(token: str, auth: GunicornServer) -> tuple[dict[str, Any], dict[str, Any]]:
    header = jwt.get_unverified_header(token)
    keys = requests.get(f"{auth.url}/.well-known/jwks.json", timeout=10).json()["keys"]
    jwk = next(key for key in keys if key["kid"] == header["kid"])
    public_key = jwt.PyJWK(jwk).key
    claims = jwt.decode(
        token, public_key, algorithms=["ES256"], audience="flask-factory", issuer="auth-service"
    )
    return header, claims


def _rfc7638_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638, written here from the RFC (not the code under test): the required members,
    sorted, no white space, SHA-256, base64url without padding."""
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_access_token_carries_the_contract_claims(auth: GunicornServer, account: Account) -> None:
    header, claims = _decode(account.access_token, auth)
    assert header["alg"] == "ES256"
    assert header["typ"] == "JWT"
    assert len(header["kid"]) == 43
    keys = requests.get(f"{auth.url}/.well-known/jwks.json", timeout=10).json()["keys"]
    jwk = next(key for key in keys if key["kid"] == header["kid"])
    assert _rfc7638_thumbprint(jwk) == header["kid"]
    assert not {"d", "p", "q"} & set(jwk)
    assert set(claims) >= CONTRACT_CLAIMS
    assert claims["sub"] == account.user_id
    assert len(claims["sub"]) == 24
    assert claims["type"] == "access"
    assert claims["roles"] == ["user"]
    assert claims["fresh"] is True
    assert claims["ver"] == 0  # a new account; every revoke-all raises it
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["nbf"] <= claims["iat"] + 1
    assert isinstance(claims["jti"], str)
    assert isinstance(claims["fid"], str)
    assert claims["fid"]


def test_refresh_token_shares_the_family_and_lives_30_days(
    auth: GunicornServer, account: Account
) -> None:
    _, access = _decode(account.access_token, auth)
    _, refresh = _decode(account.refresh_token, auth)
    assert refresh["type"] == "refresh"
    assert refresh["fid"] == access["fid"]
    assert refresh["jti"] != access["jti"]
    assert refresh["sub"] == access["sub"]
    assert refresh["exp"] - refresh["iat"] == 30 * 24 * 3600


def test_todo_s_verifier_accepts_auth_s_access_token_only(
    auth: GunicornServer, account: Account, mongo_uri: str, db_name: str, tmp_path: Path
) -> None:
    todo = create_todo(
        {
            "ENV": "testing",
            "MONGO_URI": mongo_uri,
            "MONGO_DB_NAME": db_name,
            "INSTANCE_PATH": str(tmp_path),
            "JWKS_URL": f"{auth.url}/.well-known/jwks.json",
            "REVOCATION_FEED_URL": f"{auth.url}/auth/revocations",
            "FEED_TOKEN": FEED_TOKEN,
            "EVENT_FEED_URL": f"{auth.url}/auth/events",
        }
    )
    try:
        client = todo.test_client()
        accepted = client.get("/todos", headers=account.headers())
        assert accepted.status_code == 200, accepted.get_json()
        assert accepted.get_json() == []
        refused = client.get("/todos", headers=account.headers(account.refresh_token))
        assert refused.status_code == 401, refused.get_json()
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    finally:
        shutdown(todo)
