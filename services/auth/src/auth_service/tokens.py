"""Issuing, rotating and revoking tokens; the JWT checks every authenticated request runs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token
from flask_smorest import abort
from pymongo.errors import PyMongoError

from auth_service.keys import KeyRing
from auth_service.repositories import RefreshTokenRepository, RevocationRepository, UserRepository
from factory_core import configure_jwt, mongo

KEYS_EXTENSION_KEY = "auth.keys"

Document = dict[str, Any]

#: Claims every token of this service carries; a token without one of them is invalid.
#: ``ver`` is the account's token version when the token was issued (see revoke_all).
REQUIRED_CLAIMS = (
    *("iss", "aud", "sub", "exp", "iat", "nbf", "jti", "type", "fresh", "roles", "fid", "ver"),
)

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

    The tokens carry the account's token version as ``user`` was read: should a revoke-all
    have happened since (a password change while this login was checking the old one), they
    are born revoked.
    """
    family_id = family_id or uuid.uuid4().hex
    identity = str(user["_id"])
    claims = {"roles": list(user["roles"]), "fid": family_id, "ver": token_version(user)}
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


def rotate_refresh_token(claims: Document, presented: str, user: Document) -> Document | None:
    """The successor pair of a refresh token; None when the token is reused (leaked).

    The first use issues a new pair (exactly one of concurrent uses does). The same token
    again within REFRESH_RETRY_GRACE_SECONDS of that use gets the same pair back (RFC 9700
    section 4.14.2): a client whose answer was lost, or that was told to retry a 503, is not
    logged out. A use after that is reuse. The pair is kept encrypted with a key derived from
    the presented token, so the database alone cannot give it away.
    """
    uses = RefreshTokenRepository(mongo.db)
    grace = timedelta(seconds=float(current_app.config["REFRESH_RETRY_GRACE_SECONDS"]))
    jti = claims["jti"]
    record, owned = uses.claim(
        jti=jti,
        family_id=claims["fid"],
        user_id=claims["sub"],
        expires_at=datetime.fromtimestamp(claims["exp"], UTC) + _leeway(),
        lease=_ROTATION_LEASE,
    )
    deadline = time.monotonic() + _ROTATION_WAIT_SECONDS
    while not owned:
        if datetime.now(UTC) - record["used_at"] > grace:
            return None
        if record["state"] == "done":
            sealed = uses.successor(jti=jti)
            return None if sealed is None else _open(sealed, presented)
        if uses.take_over(jti=jti, lease=_ROTATION_LEASE):
            break  # the first attempt failed: finish its rotation
        if time.monotonic() >= deadline:
            abort(
                409,
                message="This refresh token is being rotated right now. Retry later.",
                code="refresh_in_progress",
                headers={"Retry-After": "1"},
            )
        time.sleep(0.05)
        record = uses.get(jti=jti) or record
    try:
        pair = issue_tokens(user, family_id=claims["fid"], fresh=False)
        uses.complete(
            jti=jti, successor=_seal(pair, presented), keep_until=record["used_at"] + grace
        )
    except Exception:
        with contextlib.suppress(PyMongoError):  # best effort: else the lease runs out
            uses.end_lease(jti=jti)
        raise
    return pair


#: How long a rotation may take before a retry may finish it instead.
_ROTATION_LEASE = timedelta(seconds=10)
#: How long a concurrent use of the same token waits for the rotation in progress.
_ROTATION_WAIT_SECONDS = 2.0


def _successor_key(presented: str) -> bytes:
    return hashlib.sha256(b"refresh-successor:" + presented.encode()).digest()


def _seal(pair: Document, presented: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_successor_key(presented)).encrypt(nonce, json.dumps(pair).encode(), None)


def _open(sealed: bytes, presented: str) -> Document | None:
    try:
        plain = AESGCM(_successor_key(presented)).decrypt(sealed[:12], sealed[12:], None)
    except InvalidTag:
        return None
    pair: Document = json.loads(plain)
    return pair


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


def token_version(user: Document) -> int:
    """The version every valid token of the account carries (``ver``); revoke-all raises it."""
    return int(user.get("token_version", 0))


def revoke_all(user: Document) -> int:
    """Revoke every token of the account issued so far; return the account's new token version.

    The caller stores the version on the account (``$max``) in the same update as the change
    that calls for it (a password, the disabled flag), so no request can read the new state
    with the old version. The revocation is published first: should the service die in
    between, other services already refuse the old tokens.
    """
    version = token_version(user) + 1
    now = datetime.now(UTC)
    RevocationRepository(mongo.db).revoke(
        kind="subject",
        value=str(user["_id"]),
        not_before=now,
        version=version,
        expires_at=now + _longest_life(),
    )
    return version


def _is_revoked(_header: Document, claims: Document) -> bool:
    # Runs on every authenticated request; a database outage raises, which is a 503 (closed).
    # The account itself is checked too (_load_user): its token version is the authority.
    version = claims.get("ver")
    return RevocationRepository(mongo.db).is_revoked(
        jti=str(claims.get("jti")),
        family_id=str(claims.get("fid")),
        user_id=str(claims.get("sub")),
        version=version if isinstance(version, int) else -1,
    )


def _load_user(_header: Document, claims: Document) -> Document | None:
    """The token's account; None (401) when it was deleted, disabled or the token is older
    than its last revoke-all."""
    user = UserRepository(mongo.db).find_by_id(user_id=str(claims.get("sub")))
    if user is None or user["disabled"]:
        return None
    version = claims.get("ver")
    if not isinstance(version, int) or version < token_version(user):
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
