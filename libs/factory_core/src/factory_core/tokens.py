"""Asymmetric JWT verification for every service: key lookup by kid, 401 problems for failures."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import AsymmetricPadding
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask, Response, current_app
from flask_jwt_extended import JWTManager
from jwt import PyJWK, PyJWKClient, PyJWKSet
from jwt.exceptions import (
    InvalidTokenError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKError,
    PyJWKSetError,
)

from factory_core.errors import Problem, problem

logger = logging.getLogger(__name__)

EXTENSION_KEY = "factory_core.keys"
REQUIRED_CLAIMS_KEY = "factory_core.required_claims"
REMEMBERING_KEY = "factory_core.remembered_signatures"

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
        kid = jwk_thumbprint(public_jwk(public_key, kid="", algorithm=algorithm))
        return cls({kid: public_key})

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

    def verification_key(self, kid: str) -> Any:
        try:
            signing_key: PyJWK = self._client.get_signing_key(kid)
        except PyJWKClientConnectionError as error:
            logger.error("no verification keys: %s", error)
            raise Problem(
                503,
                "The token issuer's keys are not available yet. Retry later.",
                code="service_unavailable",
                retry_after=2,
            ) from error
        except PyJWKClientError:
            raise UnknownKeyError("unknown key id") from None
        return signing_key.key


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


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint (base64url SHA-256) of an EC or RSA public JWK: a stable kid."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def _challenge(error: str | None, description: str) -> dict[str, str]:
    realm = current_app.config["SERVICE_NAME"]
    value = f'Bearer realm="{realm}"'
    if error:
        value += f', error="{error}", error_description="{description}"'
    return {"WWW-Authenticate": value}


def unauthorized(detail: str, *, code: str, error: str | None = "invalid_token") -> Problem:
    """A 401 Problem (to raise) with an RFC 6750 ``WWW-Authenticate: Bearer`` challenge."""
    return Problem(401, detail, code=code, headers=_challenge(error, detail))


def _unauthorized_response(
    detail: str, *, code: str, error: str | None = "invalid_token"
) -> Response:
    # Flask-JWT-Extended's loaders must return a response, not raise.
    return problem(401, detail, code=code, headers=_challenge(error, detail))


class _VerifiedSignatures:
    """Fingerprints of the last ``size`` signatures a public key verified (an LRU).

    Only successes are kept, so a forger cannot fill it; a token's claims (expiry, audience,
    issuer, type) are still checked on every use, and its revocation too.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def fingerprint(*parts: bytes) -> bytes:
        digest = hashlib.sha256()
        for part in parts:
            digest.update(len(part).to_bytes(4, "big"))
            digest.update(part)
        return digest.digest()

    def __contains__(self, fingerprint: bytes) -> bool:
        with self._lock:
            if fingerprint not in self._seen:
                return False
            self._seen.move_to_end(fingerprint)
            return True

    def add(self, fingerprint: bytes) -> None:
        with self._lock:
            self._seen[fingerprint] = None
            if len(self._seen) > self._size:
                self._seen.popitem(last=False)


def _name(algorithm: Any) -> bytes:
    return str(getattr(algorithm, "name", type(algorithm).__name__)).encode()


class _RememberingKey:
    """What the EC and RSA remembering keys share: everything but ``verify`` goes to the
    wrapped key; copies are the same object (the remembered signatures with it)."""

    wrapped: Any

    def __init__(self, key: Any) -> None:
        self.wrapped = key
        self._verified = _VerifiedSignatures()

    @property
    def key_size(self) -> int:
        return int(self.wrapped.key_size)

    def public_numbers(self) -> Any:
        return self.wrapped.public_numbers()

    def public_bytes(self, encoding: Any, format: Any) -> bytes:
        return bytes(self.wrapped.public_bytes(encoding, format))

    def __eq__(self, other: object) -> bool:
        return bool(self.wrapped == getattr(other, "wrapped", other))

    __hash__ = None  # type: ignore[assignment]

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self


class _RememberingECKey(_RememberingKey, ec.EllipticCurvePublicKey):
    """An EC public key that does the signature math once per token, not once per request.

    A client sends the same access token for its whole lifetime; verifying its signature is
    most of the cost of a request's token check (PyJWT calls ``verify`` on the key it is
    given, through Flask-JWT-Extended's public decode_key_loader).
    """

    wrapped: ec.EllipticCurvePublicKey

    def verify(
        self, signature: Any, data: Any, signature_algorithm: ec.EllipticCurveSignatureAlgorithm
    ) -> None:
        seen = self._verified.fingerprint(
            bytes(signature), bytes(data), _name(signature_algorithm.algorithm)
        )
        if seen in self._verified:
            return
        self.wrapped.verify(signature, data, signature_algorithm)  # InvalidSignature if not
        self._verified.add(seen)

    @property
    def curve(self) -> ec.EllipticCurve:
        return self.wrapped.curve


class _RememberingRSAKey(_RememberingKey, rsa.RSAPublicKey):
    """An RSA public key that does the signature math once per token (see the EC one)."""

    wrapped: rsa.RSAPublicKey

    def verify(self, signature: Any, data: Any, padding: AsymmetricPadding, algorithm: Any) -> None:
        seen = self._verified.fingerprint(
            bytes(signature), bytes(data), padding.name.encode(), _name(algorithm)
        )
        if seen in self._verified:
            return
        self.wrapped.verify(signature, data, padding, algorithm)  # InvalidSignature if not
        self._verified.add(seen)

    def encrypt(self, plaintext: bytes, padding: AsymmetricPadding) -> bytes:
        return self.wrapped.encrypt(plaintext, padding)

    def recover_data_from_signature(
        self, signature: bytes, padding: AsymmetricPadding, algorithm: Any
    ) -> bytes:
        return self.wrapped.recover_data_from_signature(signature, padding, algorithm)


class _RememberingKeys:
    """One remembering wrapper per key id, replaced when the source's key for it changes."""

    def __init__(self) -> None:
        self._by_kid: dict[str, Any] = {}

    def __call__(self, kid: str, key: Any) -> Any:
        known = self._by_kid.get(kid)
        if known is not None and (known.wrapped is key or known.wrapped == key):
            return known
        if isinstance(key, ec.EllipticCurvePublicKey):
            remembering: Any = _RememberingECKey(key)
        elif isinstance(key, rsa.RSAPublicKey):
            remembering = _RememberingRSAKey(key)
        else:  # anything else PyJWT accepts (a PEM string): verified every time
            return key
        self._by_kid[kid] = remembering
        return remembering


def _decode_key(header: Mapping[str, Any], claims: Mapping[str, Any]) -> Any:
    forbidden = [name for name in _FORBIDDEN_HEADERS if name in header]
    if forbidden:
        raise InvalidTokenError(f"forbidden header {forbidden[0]}")
    # Checked on the token as sent: Flask-JWT-Extended later fills in a missing `type` as
    # "access", so a token without one would otherwise pass as an access token.
    for name in current_app.extensions.get(REQUIRED_CLAIMS_KEY, ()):
        if name not in claims:
            raise InvalidTokenError(f"missing claim {name}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise UnknownKeyError("missing or malformed key id")
    source: KeySource = current_app.extensions[EXTENSION_KEY]
    remembering: _RememberingKeys = current_app.extensions[REMEMBERING_KEY]
    return remembering(kid, source.verification_key(kid))


def configure_jwt(
    app: Flask, manager: JWTManager, keys: KeySource, *, required_claims: Iterable[str] = ()
) -> None:
    """Bind ``manager`` to ``app`` for the one configured algorithm, keys by kid, 401 problems.

    A token lacking any of ``required_claims`` (e.g. ``exp``, ``jti``, ``type``) is invalid.
    """
    config = app.config
    algorithm = config["JWT_ALGORITHM"]
    config.setdefault("JWT_DECODE_ALGORITHMS", [algorithm])
    config.setdefault("JWT_TOKEN_LOCATION", ["headers"])
    config.setdefault("JWT_ENCODE_ISSUER", config["JWT_ISSUER"])
    config.setdefault("JWT_DECODE_ISSUER", config["JWT_ISSUER"])
    config.setdefault("JWT_ENCODE_AUDIENCE", config["JWT_AUDIENCE"])
    config.setdefault("JWT_DECODE_AUDIENCE", config["JWT_AUDIENCE"])
    config.setdefault("JWT_DECODE_LEEWAY", config["JWT_LEEWAY_SECONDS"])
    config.setdefault("JWT_ENCODE_NBF", True)
    app.extensions[EXTENSION_KEY] = keys
    app.extensions[REMEMBERING_KEY] = _RememberingKeys()
    app.extensions[REQUIRED_CLAIMS_KEY] = tuple(required_claims)

    manager.decode_key_loader(_decode_key)
    manager.unauthorized_loader(
        lambda _reason: _unauthorized_response(
            "An access token is required (Authorization: Bearer <token>).",
            code="missing_token",
            error=None,
        )
    )

    def invalid(reason: str) -> Response:
        logger.info("invalid token: %s", reason)
        return _unauthorized_response("The token is invalid.", code="invalid_token")

    manager.invalid_token_loader(invalid)
    manager.expired_token_loader(
        lambda _h, _c: _unauthorized_response("The token has expired.", code="token_expired")
    )
    manager.revoked_token_loader(
        lambda _h, _c: _unauthorized_response("The token has been revoked.", code="token_revoked")
    )
    manager.needs_fresh_token_loader(
        lambda _h, _c: _unauthorized_response(
            "A fresh token from a login is required.", code="fresh_token_required"
        )
    )
    manager.token_verification_failed_loader(
        lambda _h, _c: _unauthorized_response("The token is invalid.", code="invalid_token")
    )
    manager.user_lookup_error_loader(
        lambda _h, _c: _unauthorized_response(
            "The token's account no longer exists or is disabled.", code="invalid_token"
        )
    )
    manager.init_app(app)
