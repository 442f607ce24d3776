"""Every token attack of SECURITY.md gets a 401 problem with a Bearer challenge."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from flask.testing import FlaskClient
from tests.integration.auth.helpers import (
    PASSWORD,
    bearer,
    claims_of,
    now,
    register,
    sign,
    unsigned,
)


def assert_rejected(response: Any, code: str = "invalid_token") -> None:
    assert response.status_code == 401, response.json
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="auth"')
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 401
    assert response.json["code"] == code


def test_a_valid_token_is_accepted(client: FlaskClient, tokens: dict[str, Any]) -> None:
    # The baseline every attack below is a variant of.
    response = client.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json["username"] == "alice"


def _alg_none(app: Flask, claims: dict[str, Any]) -> str:
    kid = app.extensions["auth.keys"].signing_kid
    return unsigned({"alg": "none", "typ": "JWT", "kid": kid}, claims)


def _hs256_with_public_key(app: Flask, claims: dict[str, Any]) -> str:
    keys = app.extensions["auth.keys"]
    public_pem = keys.signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": keys.signing_kid}
    token = unsigned(header, claims)
    signing_input = token.rsplit(".", 1)[0].encode()
    signature = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    return unsigned(header, claims, signature)


def _tampered(app: Flask, claims: dict[str, Any]) -> str:
    genuine = sign(app, claims)
    forged = unsigned(jwt.get_unverified_header(genuine), {**claims, "roles": ["admin"]})
    return forged.rsplit(".", 1)[0] + "." + genuine.rsplit(".", 1)[1]


def _foreign_key(_app: Flask, claims: dict[str, Any]) -> str:
    # A key of the right type that this service does not know, under its own kid.
    return jwt.encode(
        claims,
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": "someone-elses-key"},
    )


def _other_algorithm(app: Flask, claims: dict[str, Any]) -> str:
    # RS256 is not the configured algorithm, even with the right kid.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(
        claims, key, algorithm="RS256", headers={"kid": app.extensions["auth.keys"].signing_kid}
    )


ATTACKS: dict[str, Callable[[Flask, dict[str, Any]], str]] = {
    "alg_none": _alg_none,
    "hs256_signed_with_public_key": _hs256_with_public_key,
    "tampered_payload": _tampered,
    "foreign_key_unknown_kid": _foreign_key,
    "other_algorithm": _other_algorithm,
    "path_like_kid": lambda app, claims: sign(app, claims, kid="../../../../etc/passwd"),
    "jku_header": lambda app, claims: sign(app, claims, jku="https://evil.example/jwks.json"),
    "x5u_header": lambda app, claims: sign(app, claims, x5u="https://evil.example/cert.pem"),
    "jwk_header": lambda app, claims: sign(
        app, claims, jwk={"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}
    ),
    "wrong_issuer": lambda app, claims: sign(app, {**claims, "iss": "evil"}),
    "wrong_audience": lambda app, claims: sign(app, {**claims, "aud": "another-api"}),
    "expired": lambda app, claims: sign(app, {**claims, "iat": now() - 3600, "exp": now() - 60}),
    "not_yet_valid": lambda app, claims: sign(app, {**claims, "nbf": now() + 3600}),
    "missing_type_claim": lambda app, claims: sign(
        app, {k: v for k, v in claims.items() if k != "type"}
    ),
    "missing_family_claim": lambda app, claims: sign(
        app, {k: v for k, v in claims.items() if k != "fid"}
    ),
    "garbage": lambda _app, _claims: "not.a.jwt",
}


@pytest.mark.parametrize("attack", ATTACKS.keys())
def test_forged_tokens_are_rejected(
    app: Flask, client: FlaskClient, tokens: dict[str, Any], attack: str
) -> None:
    token = ATTACKS[attack](app, claims_of(tokens["access_token"]))
    response = client.get("/auth/me", headers=bearer(token))
    assert_rejected(response, "token_expired" if attack == "expired" else "invalid_token")
    # The same forgery does not get through the refresh endpoint either.
    refresh_claims = claims_of(tokens["refresh_token"])
    forged_refresh = ATTACKS[attack](app, refresh_claims)
    refreshed = client.post("/auth/refresh", headers=bearer(forged_refresh))
    assert_rejected(refreshed, "token_expired" if attack == "expired" else "invalid_token")


def test_the_signing_key_itself_accepts_the_same_claims(
    app: Flask, client: FlaskClient, tokens: dict[str, Any]
) -> None:
    # Guards the attack tests: `sign` makes valid tokens, so each rejection is the attack's.
    token = sign(app, claims_of(tokens["access_token"]))
    assert client.get("/auth/me", headers=bearer(token)).status_code == 200


def test_refresh_token_is_not_an_access_token(client: FlaskClient, tokens: dict[str, Any]) -> None:
    assert_rejected(client.get("/auth/me", headers=bearer(tokens["refresh_token"])))
    assert_rejected(client.post("/auth/logout", headers=bearer(tokens["refresh_token"])))


def test_access_token_is_not_a_refresh_token(client: FlaskClient, tokens: dict[str, Any]) -> None:
    assert_rejected(client.post("/auth/refresh", headers=bearer(tokens["access_token"])))


def test_missing_token_gets_a_bare_challenge(client: FlaskClient) -> None:
    response = client.get("/auth/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="auth"'
    assert response.json["code"] == "missing_token"


def test_tokens_are_read_from_the_header_only(client: FlaskClient, tokens: dict[str, Any]) -> None:
    response = client.get(f"/auth/me?jwt={tokens['access_token']}")
    assert response.status_code == 401
    client.set_cookie("access_token_cookie", tokens["access_token"])
    assert client.get("/auth/me").status_code == 401


def test_token_of_a_deleted_user_is_rejected(client: FlaskClient, tokens: dict[str, Any]) -> None:
    # A second login of the same user survives the first's logout, not the account's deletion.
    deleted = client.delete(
        "/auth/me", json={"password": PASSWORD}, headers=bearer(tokens["access_token"])
    )
    assert deleted.status_code == 204
    register(client, "bob")
    assert_rejected(client.get("/auth/me", headers=bearer(tokens["access_token"])), "token_revoked")
    assert_rejected(
        client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])), "token_revoked"
    )


def test_valid_signature_with_a_deleted_users_sub_is_rejected(
    app: Flask, client: FlaskClient, tokens: dict[str, Any]
) -> None:
    # Not revoked, just no such account (e.g. an id that never existed).
    claims = {**claims_of(tokens["access_token"]), "sub": "0" * 24}
    assert_rejected(client.get("/auth/me", headers=bearer(sign(app, claims))))
