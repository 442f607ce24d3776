"""Trusting auth: its public keys (JWKS URL or file), its revocation feed, the token's owner."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask, current_app
from flask_jwt_extended import JWTManager, get_jwt

from factory_core import (
    KeySource,
    RemoteJWKS,
    ServiceUnavailable,
    StaticKeys,
    configure_jwt,
    public_jwk,
)
from todo_service.revocations import FeedError, RevocationFeed

FEED_KEY = "todo.revocation_feed"

#: Claims every access token of the contract carries; a token without one is refused.
_REQUIRED_CLAIMS = ("sub", "iat", "nbf", "exp", "jti", "type", "fid")


class RevocationsUnavailable(ServiceUnavailable):
    """The revocation feed is too stale to trust tokens (fail closed)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Token revocations from the auth service are not available. Retry later.",
            retry_after=retry_after,
        )
        self.data = {"message": self.description, "code": "revocations_unavailable"}


def key_source(config: Mapping[str, Any]) -> KeySource:
    """Keys from JWKS_FILE (a JWKS document or a PEM public key) when set, else JWKS_URL."""
    if config["JWKS_FILE"]:
        return static_keys(Path(config["JWKS_FILE"]), algorithm=config["JWT_ALGORITHM"])
    return RemoteJWKS(
        config["JWKS_URL"],
        timeout=float(config["JWKS_TIMEOUT_SECONDS"]),
        lifespan=float(config["JWKS_CACHE_SECONDS"]),
        cooldown=float(config["JWKS_REFRESH_COOLDOWN_SECONDS"]),
    )


def static_keys(path: Path, *, algorithm: str) -> StaticKeys:
    """Read a JWKS document, or one PEM public key whose kid is its RFC 7638 thumbprint."""
    text = path.read_text()
    if text.lstrip().startswith("{"):
        return StaticKeys.from_jwks(text)
    public_key = load_pem_public_key(text.encode())
    kid = jwk_thumbprint(public_jwk(public_key, kid="", algorithm=algorithm))
    return StaticKeys({kid: public_key})


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint of an EC or RSA public JWK (base64url SHA-256)."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def init_auth(app: Flask) -> None:
    """Verify tokens with auth's keys and refuse the ones its feed revokes."""
    config = app.config
    manager = JWTManager()
    configure_jwt(app, manager, key_source(config), required_claims=_REQUIRED_CLAIMS)
    if config["REVOCATION_FEED_URL"]:
        app.extensions[FEED_KEY] = RevocationFeed(
            config["REVOCATION_FEED_URL"],
            token=config["REVOCATION_FEED_TOKEN"],
            poll_seconds=float(config["REVOCATION_POLL_SECONDS"]),
            max_staleness_seconds=float(config["REVOCATION_MAX_STALENESS_SECONDS"]),
            timeout=float(config["REVOCATION_TIMEOUT_SECONDS"]),
            window=timedelta(
                seconds=int(config["ACCESS_TOKEN_MAX_LIFETIME_SECONDS"])
                + int(config["JWT_LEEWAY_SECONDS"])
            ),
        )
    manager.token_verification_loader(_is_valid_access_token)
    manager.token_in_blocklist_loader(_is_revoked)


def revocation_feed(app: Flask | None = None) -> RevocationFeed | None:
    """The app's revocation feed, if one is configured."""
    feed: RevocationFeed | None = (app or current_app).extensions.get(FEED_KEY)
    return feed


def _is_valid_access_token(_header: Mapping[str, Any], claims: Mapping[str, Any]) -> bool:
    # Presence is checked by configure_jwt(required_claims=...); here: values. A lifetime
    # beyond the issuer's own would outlive the revocations this service reads.
    lifetime = claims["exp"] - claims["iat"]
    return (
        claims["type"] == "access"
        and isinstance(claims["sub"], str)
        and bool(claims["sub"])
        and isinstance(claims["jti"], str)
        and isinstance(claims["fid"], str)
        and lifetime <= int(current_app.config["ACCESS_TOKEN_MAX_LIFETIME_SECONDS"])
    )


def _is_revoked(_header: Mapping[str, Any], claims: Mapping[str, Any]) -> bool:
    feed = revocation_feed()
    if feed is None:
        return False
    try:
        return feed.is_revoked(claims)
    except FeedError:
        raise RevocationsUnavailable(retry_after=max(1, round(feed.poll_seconds))) from None


def current_owner() -> str:
    """The verified token's subject: the user whose todos this request may touch."""
    return str(get_jwt()["sub"])
