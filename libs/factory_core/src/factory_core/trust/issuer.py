"""Trusting an issuer's access tokens: its public keys and its revocation feed, from settings."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

from flask import Flask, current_app

from factory_core.runtime.config import PLACEHOLDER
from factory_core.runtime.lifecycle import keep_running, on_start
from factory_core.trust.feeds import FeedReaderSettings
from factory_core.trust.revocations import FeedError, RevocationFeed
from factory_core.trust.tokens import Claims, KeySource, RemoteJWKS, StaticKeys, configure_bearer
from factory_core.web.errors import Problem
from factory_core.web.health import add_readiness_check

EXTENSION_KEY = "factory_core.trust"

#: Claims every access token of the contract carries; a token without one is refused.
REQUIRED_CLAIMS = ("sub", "iat", "nbf", "exp", "jti", "type", "fid")


class TrustedIssuerSettings(FeedReaderSettings):
    """Settings of a service that accepts the issuer's (auth's) access tokens."""

    #: The issuer's JWKS; its keys are cached and refreshed when a token names an unknown kid.
    JWKS_URL = "http://127.0.0.1:5001/.well-known/jwks.json"
    #: A JWKS document or a PEM public key on disk (offline deployments); when set, JWKS_URL
    #: is not used.
    JWKS_FILE = ""
    #: Timeout of one JWKS fetch; a slow issuer must not hold a request for long.
    JWKS_TIMEOUT_SECONDS = 2.0
    #: How long fetched keys are used before they are fetched again.
    JWKS_CACHE_SECONDS = 300
    #: Minimum interval between refetches caused by an unknown kid (a flood of forged kids
    #: must not turn into a flood of requests to the issuer).
    JWKS_REFRESH_COOLDOWN_SECONDS = 30

    #: The lifetime of the issuer's access tokens (auth's ACCESS_TOKEN_TTL_SECONDS). A token
    #: claiming a longer one is refused, and revocations older than this (plus leeway) are
    #: not read.
    ACCESS_TOKEN_MAX_LIFETIME_SECONDS = 15 * 60

    #: The issuer's revocation feed; empty disables revocation checks (only for offline
    #: deployments whose tokens are short-lived enough to accept that).
    REVOCATION_FEED_URL = "http://127.0.0.1:5001/auth/revocations"
    #: How often each worker reads the feed.
    REVOCATION_POLL_SECONDS = 5.0
    #: After this long without a successful read, authenticated requests get 503 (fail
    #: closed); 0 keeps serving with the last known revocations (fail open).
    REVOCATION_MAX_STALENESS_SECONDS = 30.0
    #: Timeout of one feed request.
    REVOCATION_TIMEOUT_SECONDS = 2.0

    @classmethod
    def problems(cls, config: Mapping[str, Any]) -> list[str]:
        found = super().problems(config)
        jwks_file = str(config.get("JWKS_FILE") or "")
        if jwks_file:
            if not Path(jwks_file).is_file():
                found.append(f"JWKS_FILE {jwks_file!r} does not exist")
        elif not _is_http_url(config.get("JWKS_URL")):
            found.append("JWKS_URL (an http(s) URL) or JWKS_FILE must be configured")
        feed_url = config.get("REVOCATION_FEED_URL")
        if feed_url and not _is_http_url(feed_url):
            found.append("REVOCATION_FEED_URL must be an http(s) URL (or empty to disable)")
        return found


class TrustedIssuer:
    """Flask extension: verify the issuer's access tokens, refuse the ones its feed revokes."""

    def init_app(self, app: Flask) -> None:
        config = app.config
        keys = key_source(config)
        configure_bearer(
            app,
            keys,
            required_claims=REQUIRED_CLAIMS,
            accepts=_is_valid_access_token,
            is_revoked=_is_revoked,
        )
        feed = None
        if config["REVOCATION_FEED_URL"]:
            feed = RevocationFeed(
                config["REVOCATION_FEED_URL"],
                token=config["FEED_TOKEN"],
                poll_seconds=float(config["REVOCATION_POLL_SECONDS"]),
                max_staleness_seconds=float(config["REVOCATION_MAX_STALENESS_SECONDS"]),
                timeout=float(config["REVOCATION_TIMEOUT_SECONDS"]),
                window=timedelta(
                    seconds=int(config["ACCESS_TOKEN_MAX_LIFETIME_SECONDS"])
                    + int(config["JWT_LEEWAY_SECONDS"])
                ),
            )
        app.extensions[EXTENSION_KEY] = feed
        # Ready only when this worker can verify tokens: it has the issuer's keys, and a fresh
        # copy of the revocation feed (each read now if need be: a worker whose warm-up read
        # failed serves as soon as the issuer answers).
        if isinstance(keys, RemoteJWKS):
            on_start(app, keys.prefetch)
            add_readiness_check(app, "keys", keys.describe)
        if feed is not None:
            on_start(app, feed.read_now)
            keep_running(app, feed)
            add_readiness_check(app, "revocations", lambda: _describe(feed))


trust_issuer = TrustedIssuer()


def key_source(config: Mapping[str, Any]) -> KeySource:
    """Keys from JWKS_FILE (a JWKS document or a PEM public key) when set, else JWKS_URL."""
    if config["JWKS_FILE"]:
        return StaticKeys.from_file(Path(config["JWKS_FILE"]), algorithm=config["JWT_ALGORITHM"])
    return RemoteJWKS(
        config["JWKS_URL"],
        timeout=float(config["JWKS_TIMEOUT_SECONDS"]),
        lifespan=float(config["JWKS_CACHE_SECONDS"]),
        cooldown=float(config["JWKS_REFRESH_COOLDOWN_SECONDS"]),
    )


def revocation_bound(config: Mapping[str, Any]) -> timedelta:
    """How long after auth revokes a token this service may still accept it, a request in flight
    included (docs/services/auth.md#account-events-and-erasure-across-services)."""
    staleness = float(config["REVOCATION_MAX_STALENESS_SECONDS"])
    if config["REVOCATION_FEED_URL"] and staleness > 0:
        accepted = staleness + float(config["REVOCATION_TIMEOUT_SECONDS"])
    else:
        accepted = float(config["ACCESS_TOKEN_MAX_LIFETIME_SECONDS"])
    return timedelta(
        seconds=accepted
        + float(config["JWT_LEEWAY_SECONDS"])
        + float(config["MONGO_TIMEOUT_MS"]) / 1000
    )


def revocation_feed(app: Flask | None = None) -> RevocationFeed | None:
    """The app's revocation feed, if one is configured."""
    return cast(RevocationFeed | None, (app or current_app).extensions.get(EXTENSION_KEY))


def _is_valid_access_token(claims: Claims) -> bool:
    # Presence is checked by configure_bearer(required_claims=...); here: values. A lifetime
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


def _is_revoked(claims: Claims) -> bool:
    feed = revocation_feed()
    if feed is None:
        return False
    with _feed_answers(feed):
        return feed.is_revoked(claims)


def _describe(feed: RevocationFeed) -> str:
    with _feed_answers(feed):
        return feed.describe()


@contextlib.contextmanager
def _feed_answers(feed: RevocationFeed) -> Iterator[None]:
    """A FeedError becomes a 503 (the revocations are not known: fail closed)."""
    try:
        yield
    except FeedError:
        raise Problem(
            503,
            "Token revocations from the auth service are not available. Retry later.",
            code="revocations_unavailable",
            retry_after=max(1, round(feed.poll_seconds)),
        ) from None


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str) or not value or value == PLACEHOLDER:
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)
