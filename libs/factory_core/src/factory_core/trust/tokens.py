"""Bearer tokens for every service: asymmetric JWTs verified by kid, 401 problems for failures;
each token's signature is checked once per process (docs/services/todo.md)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, cast

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask, current_app, g, request
from jwt import PyJWK, PyJWKClient, PyJWKSet
from jwt.exceptions import (
    ExpiredSignatureError,
    InvalidTokenError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKError,
    PyJWKSetError,
    PyJWTError,
)

from factory_core.web.errors import Problem

logger = logging.getLogger(__name__)

BEARER_KEY = "factory_core.bearer"

#: A token's verified claims (read-only where they are shared between requests).
Claims = Mapping[str, Any]

# Headers that would let a token choose its own verification key (RFC 8725 section 3.10).
_FORBIDDEN_HEADERS = ("jku", "x5u", "jwk", "x5c", "crit")
_KID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class UnknownKeyError(InvalidTokenError):
    """The token names a key id this service does not know."""


class KeySource(Protocol):
    """Where a service finds the public key for a token's ``kid``."""

    def verification_key(self, kid: str) -> Any:
        """Return the public key for ``kid``; raise UnknownKeyError, or a 503 Problem."""


class StaticKeys:
    """A fixed set of public keys: PEM strings or a JWKS document (offline deployments)."""

    def __init__(self, keys: Mapping[str, Any]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_jwks(cls, document: Mapping[str, Any] | str) -> StaticKeys:
        data = json.loads(document) if isinstance(document, str) else document
        jwk_set = PyJWKSet.from_dict(dict(data))
        return cls({key.key_id: key.key for key in jwk_set.keys if key.key_id})

    @classmethod
    def from_file(cls, path: Path, *, algorithm: str) -> StaticKeys:
        """A JWKS document, or one PEM public key whose kid is its RFC 7638 thumbprint."""
        text = path.read_text()
        if text.lstrip().startswith("{"):
            return cls.from_jwks(text)
        public_key = load_pem_public_key(text.encode())
        return cls({key_id(public_key, algorithm=algorithm): public_key})

    def verification_key(self, kid: str) -> Any:
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKeyError("unknown key id") from None


class _LastGoodJWKClient(PyJWKClient):
    """PyJWKClient that keeps serving the last key set it fetched when the issuer is down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_good: dict[str, Any] | None = None
        self._last_good_lock = threading.Lock()

    def fetch_data(self) -> Any:
        try:
            data = super().fetch_data()
            PyJWKSet.from_dict(data)  # an answer without usable keys is no better than none
        # PyJWT wraps some transport errors (URLError); a connection reset while reading the
        # answer escapes as a bare OSError, and is no less a failed fetch.
        except (PyJWKClientError, PyJWKError, PyJWKSetError, ValueError, OSError) as error:
            with self._last_good_lock:
                if self._last_good is None:
                    raise PyJWKClientConnectionError(f"no usable JWKS: {error}") from error
                logger.warning("JWKS fetch from %s failed; keeping the last good keys", self.uri)
                return self._last_good
        with self._last_good_lock:
            self._last_good = data
        return data


class RemoteJWKS:
    """Keys from an issuer's JWKS URL: cached, refreshed on an unknown kid (rate-limited)."""

    def __init__(
        self, url: str, *, timeout: float = 2.0, lifespan: float = 300.0, cooldown: float = 30.0
    ) -> None:
        self._client = _LastGoodJWKClient(
            url, cache_jwk_set=True, lifespan=lifespan, timeout=timeout, cooldown_duration=cooldown
        )

    def prefetch(self) -> None:
        """Fetch the key set now (a worker's warm-up), not at the first token."""
        self._client.get_signing_keys()

    def describe(self) -> str:
        """/readyz's line: how many keys this process has (fetched now if it has none); a 503
        Problem while it has none."""
        try:
            keys = self._client.get_signing_keys()
        except PyJWKClientError as error:
            raise _keys_unavailable(error) from error
        return f"{len(keys)} keys"

    def verification_key(self, kid: str) -> Any:
        try:
            signing_key: PyJWK = self._client.get_signing_key(kid)
        except PyJWKClientConnectionError as error:
            raise _keys_unavailable(error) from error
        except PyJWKClientError:
            raise UnknownKeyError("unknown key id") from None
        return signing_key.key


def _keys_unavailable(error: Exception) -> Problem:
    logger.debug("no verification keys (yet): %s", error)
    return Problem(
        503,
        "The token issuer's keys are not available yet. Retry later.",
        code="service_unavailable",
        retry_after=2,
    )


def public_jwk(public_key: Any, *, kid: str, algorithm: str) -> dict[str, Any]:
    """The public JWK of ``public_key`` as published in a JWKS document (no private members)."""
    jwk: dict[str, Any] = json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(public_key))
    jwk = {
        name: value for name, value in jwk.items() if name not in ("d", "p", "q", "dp", "dq", "qi")
    }
    jwk.update({"kid": kid, "alg": algorithm, "use": "sig"})
    return jwk


#: RFC 7638: the members of each key type that make up its thumbprint.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}


def key_id(public_key: Any, *, algorithm: str) -> str:
    """The RFC 7638 thumbprint (base64url SHA-256) of an EC or RSA public key: a stable kid."""
    jwk = public_jwk(public_key, kid="", algorithm=algorithm)
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def unauthorized(detail: str, *, code: str, error: str | None = "invalid_token") -> Problem:
    """A 401 Problem (to raise) with an RFC 6750 ``WWW-Authenticate: Bearer`` challenge."""
    challenge = f'Bearer realm="{current_app.config["SERVICE_NAME"]}"'
    if error:
        challenge += f', error="{error}", error_description="{detail}"'
    return Problem(401, detail, code=code, headers={"WWW-Authenticate": challenge})


@dataclass(frozen=True)
class _Verified:
    kid: str
    key: Any
    claims: Claims
    expires: float


class BearerTokens:
    """Verifies tokens: the one configured algorithm, a key by ``kid``, issuer, audience,
    lifetime and required claims; the last ``remember`` tokens that passed are remembered."""

    def __init__(
        self,
        keys: KeySource,
        *,
        algorithm: str,
        issuer: str,
        audience: str,
        leeway: float,
        required_claims: Iterable[str] = (),
        remember: int = 4096,
    ) -> None:
        self.keys = keys
        self._algorithms = [algorithm]
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._options: Any = {"require": list(required_claims)}
        self._jwt = jwt.PyJWT()
        self._remember = remember
        self._verified: dict[str, _Verified] = {}
        self._lock = threading.Lock()

    def verify(self, token: str, *, remember: bool = True) -> Claims:
        """The claims of ``token`` (read-only); raise InvalidTokenError (ExpiredSignatureError
        for one only too old), or a 503 Problem. ``remember=False``: a token used once."""
        verified = self._verified.get(token)
        if verified is None or not self._still_signed_by(verified):
            verified = self._verify(token)
            if remember and self._remember > 0:
                with self._lock:
                    while len(self._verified) >= self._remember:
                        del self._verified[next(iter(self._verified))]  # the oldest out first
                    self._verified[token] = verified
        if time.time() >= verified.expires + self._leeway:
            raise ExpiredSignatureError("Signature has expired")
        return verified.claims

    def _still_signed_by(self, verified: _Verified) -> bool:
        key = self.keys.verification_key(verified.kid)  # UnknownKeyError once it is withdrawn
        return key is verified.key or bool(key == verified.key)

    def _verify(self, token: str) -> _Verified:
        header = jwt.get_unverified_header(token)  # DecodeError, an InvalidTokenError
        forbidden = [name for name in _FORBIDDEN_HEADERS if name in header]
        if forbidden:
            raise InvalidTokenError(f"forbidden header {forbidden[0]}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not _KID.fullmatch(kid):
            raise UnknownKeyError("missing or malformed key id")
        key = self.keys.verification_key(kid)
        try:
            claims = self._jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options=self._options,
            )
        except InvalidTokenError:
            raise
        except PyJWTError as error:  # InvalidKeyError: a key unfit for the token's algorithm
            raise InvalidTokenError(str(error)) from None
        expires = claims.get("exp")
        return _Verified(
            kid, key, MappingProxyType(claims), math.inf if expires is None else float(expires)
        )


@dataclass(frozen=True)
class _Bearer:
    """A service's token checks: the tokens' own, then its own on each request."""

    tokens: BearerTokens
    accepts: Callable[[Claims], bool]
    is_revoked: Callable[[Claims], bool]
    load_account: Callable[[Claims], Any] | None


def configure_bearer(
    app: Flask,
    keys: KeySource,
    *,
    required_claims: Iterable[str] = (),
    accepts: Callable[[Claims], bool] | None = None,
    is_revoked: Callable[[Claims], bool] | None = None,
    load_account: Callable[[Claims], Any] | None = None,
) -> BearerTokens:
    """Accept bearer tokens signed by ``keys`` (JWT_* settings, every one of ``required_claims``)
    on ``authenticated`` views. On every request, after the token's own checks:
    ``accepts(claims)`` (False is 401), ``is_revoked(claims)`` (True is 401; raise a 503 Problem
    when it cannot tell), ``load_account(claims)`` (None is 401; ``current_account()`` is it)."""
    config = app.config
    tokens = BearerTokens(
        keys,
        algorithm=config["JWT_ALGORITHM"],
        issuer=config["JWT_ISSUER"],
        audience=config["JWT_AUDIENCE"],
        leeway=float(config["JWT_LEEWAY_SECONDS"]),
        required_claims=required_claims,
        remember=int(config["TOKEN_MEMORY_SIZE"]),
    )
    app.extensions[BEARER_KEY] = _Bearer(
        tokens,
        accepts=accepts or (lambda _claims: True),
        is_revoked=is_revoked or (lambda _claims: False),
        load_account=load_account,
    )
    return tokens


def bearer_tokens(app: Flask | None = None) -> BearerTokens:
    """The app's token verifier (``configure_bearer``)."""
    return cast(_Bearer, (app or current_app).extensions[BEARER_KEY]).tokens


def verify_bearer(
    *, fresh: bool = False, refresh: bool = False, mfa: bool = False
) -> dict[str, Any]:
    """Check the request's bearer token (``fresh``: from a login; ``refresh``: a refresh token;
    ``mfa``: from a sign-in with a one-time code, ``otp`` in its ``amr``); raise a 401 (or
    503, or 403 for ``mfa``) Problem unless it passes; its claims are then
    ``current_claims()``."""
    bearer: _Bearer = current_app.extensions[BEARER_KEY]
    credentials = request.authorization
    if credentials is None or credentials.type != "bearer" or not credentials.token:
        raise unauthorized(
            "An access token is required (Authorization: Bearer <token>).",
            code="missing_token",
            error=None,
        )
    try:
        claims = bearer.tokens.verify(credentials.token, remember=not refresh)
    except ExpiredSignatureError:
        raise unauthorized("The token has expired.", code="token_expired") from None
    except InvalidTokenError as error:
        logger.info("invalid token: %s", error)
        raise unauthorized("The token is invalid.", code="invalid_token") from None
    if claims.get("type", "access") != ("refresh" if refresh else "access"):
        logger.info("invalid token: not an %s token", "refresh" if refresh else "access")
        raise unauthorized("The token is invalid.", code="invalid_token")
    if fresh and not _is_fresh(claims.get("fresh", False)):
        raise unauthorized("A fresh token from a login is required.", code="fresh_token_required")
    if not bearer.accepts(claims):
        raise unauthorized("The token is invalid.", code="invalid_token")
    if bearer.is_revoked(claims):
        raise unauthorized("The token has been revoked.", code="token_revoked")
    account = None
    if bearer.load_account is not None:
        account = bearer.load_account(claims)
        if account is None:
            raise unauthorized(
                "The token's account no longer exists or is disabled.", code="invalid_token"
            )
    amr = claims.get("amr")
    if mfa and not (isinstance(amr, list) and "otp" in amr):
        raise Problem(
            403,
            "This operation needs a sign-in with a second factor (a one-time code).",
            code="mfa_required",
        )
    verified = dict(claims)
    g.factory_core_bearer = (verified, account)
    return verified


def _is_fresh(fresh: Any) -> bool:
    # Flask-JWT-Extended's convention: True, or the time until which the token counts as fresh.
    if isinstance(fresh, bool):
        return fresh
    return isinstance(fresh, int | float) and fresh >= time.time()


def _verified_now() -> tuple[dict[str, Any], Any]:
    verified: tuple[dict[str, Any], Any] | None = g.get("factory_core_bearer")
    if verified is None:
        raise RuntimeError("no bearer token was verified for this request")
    return verified


def current_claims() -> dict[str, Any]:
    """The claims of the token verified for this request; RuntimeError if none was."""
    return _verified_now()[0]


def current_account() -> Any:
    """What ``load_account`` returned for this request's token; RuntimeError if none was."""
    return _verified_now()[1]


def current_subject() -> str:
    """The verified token's subject: the user the request acts for."""
    return str(current_claims()["sub"])
