"""Issuing, rotating and revoking tokens; the JWT checks every authenticated request runs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token

from auth_service.keys import KeyRing, load_key_ring
from auth_service.repositories import revocations, sessions, users
from factory_core import Claims, Document, configure_bearer, unauthorized

KEYS_EXTENSION_KEY = "auth.keys"


#: Claims every token of this service carries; a token without one of them is invalid.
#: ``ver`` is the account's token version when the token was issued (see revoke_all).
REQUIRED_CLAIMS = (
    *("iss", "aud", "sub", "exp", "iat", "nbf", "jti", "type", "fresh", "roles", "fid", "ver"),
)


def key_ring() -> KeyRing:
    found: KeyRing = current_app.extensions[KEYS_EXTENSION_KEY]
    return found


def _access_ttl() -> timedelta:
    return timedelta(seconds=int(current_app.config["ACCESS_TOKEN_TTL_SECONDS"]))


def _refresh_ttl() -> timedelta:
    return timedelta(seconds=int(current_app.config["REFRESH_TOKEN_TTL_SECONDS"]))


def leeway() -> timedelta:
    """The clock-skew allowance of token checks (JWT_LEEWAY_SECONDS)."""
    return timedelta(seconds=int(current_app.config["JWT_LEEWAY_SECONDS"]))


#: The sign-in methods a token can name in ``amr`` (RFC 8176): a password, and a one-time code.
PASSWORD, ONE_TIME_CODE = "pwd", "otp"


def issue_tokens(
    user: Document, *, family_id: str | None = None, fresh: bool, amr: list[str]
) -> Document:
    """A new access and refresh token for ``user``; a new family unless ``family_id`` is given;
    ``amr``: how the session signed in (RFC 8176), carried by every token of the family.

    The tokens carry the account's token version as ``user`` was read: should a revoke-all
    have happened since (a password change while this login was checking the old one), they
    are born revoked.
    """
    family_id = family_id or uuid.uuid4().hex
    identity = str(user["_id"])
    claims = {
        "roles": list(user["roles"]),
        "fid": family_id,
        "ver": token_version(user),
        "amr": list(amr),
    }
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


def refresh_token_expiry() -> datetime:
    """When a refresh token issued now stops verifying (its lifetime and the leeway)."""
    return datetime.now(UTC) + _refresh_ttl() + leeway()


def _longest_life() -> timedelta:
    return max(_access_ttl(), _refresh_ttl()) + leeway()


def revoke_token(claims: Document) -> None:
    """Revoke the one token these claims belong to, until it would have expired anyway."""
    expires_at = datetime.fromtimestamp(claims["exp"], UTC) + leeway()
    revocations.revoke(kind="token", value=claims["jti"], expires_at=expires_at)


def revoke_family(family_id: str) -> None:
    """Revoke every token of a refresh-token family (a login session)."""
    # Every token of the family was issued before now, so none outlives now + the longest TTL.
    expires_at = datetime.now(UTC) + _longest_life()
    revocations.revoke(kind="family", value=family_id, expires_at=expires_at)


def token_version(user: Document) -> int:
    """The version every valid token of the account carries (``ver``); revoke-all raises it."""
    return int(user.get("token_version", 0))


def revoke_all(user: Document) -> int:
    """Revoke every token of the account issued so far; return the account's new token version.

    The caller stores the version on the account (``$max``) in the same update as the change
    that calls for it (a password, the disabled flag, the deletion), and both writes in one
    transaction: a revocation whose account kept its old version would refuse every token a
    new login issues, until the revocation expires.
    """
    version = token_version(user) + 1
    now = datetime.now(UTC)
    revocations.revoke(
        kind="subject",
        value=str(user["_id"]),
        not_before=now,
        version=version,
        expires_at=now + _longest_life(),
    )
    sessions.end_all(user_id=str(user["_id"]))
    return version


def _is_revoked(claims: Claims) -> bool:
    # Runs on every authenticated request; a database outage raises, which is a 503 (closed).
    # The account itself is checked too (_load_user): its token version is the authority.
    version = claims.get("ver")
    return revocations.is_revoked(
        jti=str(claims.get("jti")),
        family_id=str(claims.get("fid")),
        user_id=str(claims.get("sub")),
        version=version if isinstance(version, int) else -1,
    )


def _load_user(claims: Claims) -> Document | None:
    """The token's account; None (401) when it was deleted, disabled or the token is older
    than its last revoke-all."""
    user = users.find_by_id(user_id=str(claims.get("sub")))
    if user is None or user["disabled"] or user.get("deleting"):
        return None
    version = claims.get("ver")
    if not isinstance(version, int) or version < token_version(user):
        return None
    return user


def configure_jwt(app: Flask, manager: JWTManager) -> None:
    """Bind Flask-JWT-Extended, which issues the tokens, to ``app``: the one configured
    algorithm, issuer, audience and leeway. The views verify tokens with factory_core
    (``authenticated``); should anything of Flask-JWT-Extended's report a token error anyway,
    it answers in the same problem shape, through the same ``unauthorized``."""
    config = app.config
    config.setdefault("JWT_DECODE_ALGORITHMS", [config["JWT_ALGORITHM"]])
    config.setdefault("JWT_TOKEN_LOCATION", ["headers"])
    for direction in ("ENCODE", "DECODE"):
        config.setdefault(f"JWT_{direction}_ISSUER", config["JWT_ISSUER"])
        config.setdefault(f"JWT_{direction}_AUDIENCE", config["JWT_AUDIENCE"])
    config.setdefault("JWT_DECODE_LEEWAY", config["JWT_LEEWAY_SECONDS"])
    config.setdefault("JWT_ENCODE_NBF", True)

    def answer(detail: str, code: str, error: str | None = "invalid_token") -> Any:
        # Flask's own dispatch to the app's handler of HTTP errors: the problem shape.
        return current_app.handle_http_exception(unauthorized(detail, code=code, error=error))

    manager.unauthorized_loader(
        lambda _reason: answer("An access token is required.", "missing_token", None)
    )
    manager.invalid_token_loader(lambda _reason: answer("The token is invalid.", "invalid_token"))
    manager.expired_token_loader(
        lambda _header, _claims: answer("The token has expired.", "token_expired")
    )
    manager.init_app(app)


class Tokens:
    """Flask extension: the key ring signs (Flask-JWT-Extended issues the tokens); every request
    presenting one is checked against the revocations and its account (factory_core's bearer
    checks)."""

    def init_app(self, app: Flask) -> None:
        keys = load_key_ring(app.config, app.instance_path)
        app.extensions[KEYS_EXTENSION_KEY] = keys
        # Tokens travel only in the Authorization header: no cookies, so no CSRF claim.
        app.config["JWT_COOKIE_CSRF_PROTECT"] = False
        app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(
            seconds=int(app.config["ACCESS_TOKEN_TTL_SECONDS"])
        )
        app.config["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(
            seconds=int(app.config["REFRESH_TOKEN_TTL_SECONDS"])
        )
        manager = JWTManager()
        manager.encode_key_loader(lambda _identity: key_ring().signing_key)
        manager.additional_headers_loader(lambda _identity: {"kid": key_ring().signing_kid})
        configure_jwt(app, manager)
        configure_bearer(
            app,
            keys,
            required_claims=REQUIRED_CLAIMS,
            is_revoked=_is_revoked,
            load_account=_load_user,
        )


tokens = Tokens()
