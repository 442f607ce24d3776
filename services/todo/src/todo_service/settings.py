"""Settings of the todo service; every one can be set as TODO_<NAME> in the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from factory_core import PLACEHOLDER, Settings


class TodoSettings(Settings):
    SERVICE_NAME = "todo"
    API_TITLE = "Todo API"

    #: auth's JWKS document; its keys are cached and refreshed when a token names an unknown kid.
    JWKS_URL = "http://127.0.0.1:5001/.well-known/jwks.json"
    #: A JWKS document or a PEM public key on disk (offline deployments); when set, JWKS_URL
    #: is not used.
    JWKS_FILE = ""
    #: Timeout of one JWKS fetch; a slow issuer must not hold a request for long.
    JWKS_TIMEOUT_SECONDS = 2.0
    #: How long fetched keys are used before they are fetched again.
    JWKS_CACHE_SECONDS = 300
    #: Minimum interval between refetches caused by an unknown kid (a flood of forged kids
    #: must not turn into a flood of requests to auth).
    JWKS_REFRESH_COOLDOWN_SECONDS = 30

    #: The lifetime of auth's access tokens (its ACCESS_TOKEN_TTL_SECONDS). A token claiming a
    #: longer one is refused, and revocations older than this (plus leeway) are not read.
    ACCESS_TOKEN_MAX_LIFETIME_SECONDS = 15 * 60

    #: auth's revocation feed; empty disables revocation checks (only for offline deployments
    #: whose tokens are short-lived enough to accept that).
    REVOCATION_FEED_URL = "http://127.0.0.1:5001/auth/revocations"
    #: The shared secret auth expects on the feed (auth's AUTH_REVOCATION_FEED_TOKEN).
    REVOCATION_FEED_TOKEN = PLACEHOLDER
    #: How often each worker reads the feed.
    REVOCATION_POLL_SECONDS = 5.0
    #: After this long without a successful read, authenticated requests get 503 (fail
    #: closed); 0 keeps serving with the last known revocations (fail open).
    REVOCATION_MAX_STALENESS_SECONDS = 30.0
    #: Timeout of one feed request.
    REVOCATION_TIMEOUT_SECONDS = 2.0

    #: How many todos one user may have (OWASP API4: no unbounded resource per user).
    MAX_TODOS_PER_USER = 10_000
    #: How many new Idempotency-Keys one user may use per day (UTC); each is a stored record.
    MAX_IDEMPOTENCY_KEYS_PER_USER_PER_DAY = 10_000

    #: How long an Idempotency-Key is remembered (and replayed) after its first use.
    IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 60 * 60
    #: How long a retry waits for a concurrent request with the same key to finish.
    IDEMPOTENCY_WAIT_SECONDS = 5.0

    @classmethod
    def problems(cls, config: Mapping[str, Any]) -> list[str]:
        found = super().problems(config)
        jwks_file = str(config.get("JWKS_FILE") or "")
        if jwks_file:
            if not os.path.isfile(jwks_file):
                found.append(f"JWKS_FILE {jwks_file!r} does not exist")
        elif not _is_http_url(config.get("JWKS_URL")):
            found.append("JWKS_URL (an http(s) URL) or JWKS_FILE must be configured")
        feed_url = config.get("REVOCATION_FEED_URL")
        if feed_url:
            if not _is_http_url(feed_url):
                found.append("REVOCATION_FEED_URL must be an http(s) URL (or empty to disable)")
            token = str(config.get("REVOCATION_FEED_TOKEN") or "")
            if token == PLACEHOLDER or len(token) < 16:
                found.append(
                    "REVOCATION_FEED_TOKEN must be set to auth's AUTH_REVOCATION_FEED_TOKEN "
                    "(at least 16 characters)"
                )
        return found


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str) or not value or value == PLACEHOLDER:
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)
