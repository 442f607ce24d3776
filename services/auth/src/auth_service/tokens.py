"""Issuing, rotating and revoking tokens; the JWT checks every authenticated request runs."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from flask import Flask, current_app
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token

from auth_service.keys import KeyRing
from auth_service.repositories import RefreshTokenRepository, RevocationRepository, UserRepository
from factory_core import configure_jwt, mongo

KEYS_EXTENSION_KEY = "auth.keys"

Document = dict[str, Any]

#: Claims every token of this service carries; a token without one of them is invalid.
REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat", "nbf", "jti", "type", "fresh", "roles", "fid")

jwt_manager = JWTManager()


def key_ring() -> KeyRing:
    found: KeyRing = current_app.extensions[KEYS_EXTENSION_KEY]
    return found


def _access_ttl() -> timedelta:
    return timedelta(seconds=int(current_app.config["ACCESS_TOKEN_TTL_SECONDS"]))


def _refresh_ttl() -> timedelta:
    return timedelta(seconds=int(current_app.config["REFRESH_TOKEN_TTL_SECONDS"]))


def _leeway() -> timedelta:
    return timedelta(seconds=int(current_app.config["JWT_LEEWAY_SECONDS"]))


def issue_tokens(user: Document, *, family_id: str | None = None, fresh: bool) -> Document:
    """A new access and refresh token for ``user``; a new family unless ``family_id`` is given.

    ``iat`` is never earlier than the user's ``tokens_not_before``: a revocation cuts off at a
    whole second, and a token issued in that same second must not fall under it.
    """
    family_id = family_id or uuid.uuid4().hex
    now = int(datetime.now(UTC).timestamp())
    not_before = user.get("tokens_not_before")
    issued_at = max(now, int(not_before.timestamp())) if not_before else now
    identity = str(user["_id"])
    claims = {"roles": list(user["roles"]), "fid": family_id, "iat": issued_at}
    refresh_jti = str(uuid.uuid4())
    access_token = create_access_token(
        identity, fresh=fresh, expires_delta=_access_ttl(), additional_claims=claims
    )
    refresh_token = create_refresh_token(
        identity,
        expires_delta=_refresh_ttl(),
        additional_claims={**claims, "jti": refresh_jti, "fresh": False},
    )
    return {
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": int(_access_ttl().total_seconds()),
    }


def claim_refresh_token(claims: Document) -> bool:
    """Use up a refresh token: True for exactly one caller, even under concurrent refreshes."""
    return RefreshTokenRepository(mongo.db).claim(
        jti=claims["jti"],
        family_id=claims["fid"],
        user_id=claims["sub"],
        expires_at=datetime.fromtimestamp(claims["exp"], UTC) + _leeway(),
    )


def _longest_life() -> timedelta:
    return max(_access_ttl(), _refresh_ttl()) + _leeway()


def revoke_token(claims: Document) -> None:
    """Revoke the one token these claims belong to, until it would have expired anyway."""
    expires_at = datetime.fromtimestamp(claims["exp"], UTC) + _leeway()
    RevocationRepository(mongo.db).revoke(kind="token", value=claims["jti"], expires_at=expires_at)


def revoke_family(family_id: str) -> None:
    """Revoke every token of a refresh-token family (a login session)."""
    # Every token of the family was issued before now, so none outlives now + the longest TTL.
    expires_at = datetime.now(UTC) + _longest_life()
    RevocationRepository(mongo.db).revoke(kind="family", value=family_id, expires_at=expires_at)


def revoke_subject(user_id: ObjectId) -> datetime:
    """Revoke every token issued to the user until now; return the cut-off time.

    The cut-off is the next whole second, since ``iat`` has whole seconds: every token issued
    so far has ``iat < not_before``. Tokens issued later get ``iat >= not_before``.
    """
    not_before = datetime.fromtimestamp(math.floor(datetime.now(UTC).timestamp()) + 1, UTC)
    UserRepository(mongo.db).set_tokens_not_before(user_id=user_id, tokens_not_before=not_before)
    RevocationRepository(mongo.db).revoke(
        kind="subject",
        value=str(user_id),
        not_before=not_before,
        expires_at=not_before + _longest_life(),
    )
    return not_before


def _is_revoked(_header: Document, claims: Document) -> bool:
    # Runs on every authenticated request; a database outage raises, which is a 503 (closed).
    return RevocationRepository(mongo.db).is_revoked(
        jti=str(claims.get("jti")),
        family_id=str(claims.get("fid")),
        user_id=str(claims.get("sub")),
        issued_at=datetime.fromtimestamp(int(claims.get("iat", 0)), UTC),
    )


def _load_user(_header: Document, claims: Document) -> Document | None:
    """The token's account; None (401) when it was deleted, disabled or the token predates
    its cut-off."""
    user = UserRepository(mongo.db).find_by_id(user_id=str(claims.get("sub")))
    if user is None or user["disabled"]:
        return None
    not_before = user.get("tokens_not_before")
    if not_before and int(claims.get("iat", 0)) < not_before.timestamp():
        return None
    return user


def init_tokens(app: Flask, keys: KeyRing) -> None:
    """Bind Flask-JWT-Extended: sign with the key ring's key, check revocation and the user."""
    app.extensions[KEYS_EXTENSION_KEY] = keys
    # Tokens travel only in the Authorization header: no cookies, so no CSRF claim.
    app.config["JWT_COOKIE_CSRF_PROTECT"] = False
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(
        seconds=int(app.config["ACCESS_TOKEN_TTL_SECONDS"])
    )
    app.config["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(
        seconds=int(app.config["REFRESH_TOKEN_TTL_SECONDS"])
    )
    jwt_manager.encode_key_loader(lambda _identity: key_ring().signing_key)
    jwt_manager.additional_headers_loader(lambda _identity: {"kid": key_ring().signing_kid})
    jwt_manager.token_in_blocklist_loader(_is_revoked)
    jwt_manager.user_lookup_loader(_load_user)
    configure_jwt(app, jwt_manager, keys, required_claims=REQUIRED_CLAIMS)
