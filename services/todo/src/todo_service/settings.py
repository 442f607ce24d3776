"""Settings of the todo service; every one can be set as TODO_<NAME> in the environment."""

from __future__ import annotations

from factory_core import EventConsumerSettings, TrustedIssuerSettings


class TodoSettings(TrustedIssuerSettings, EventConsumerSettings):
    """todo's own settings; those of trusting auth's tokens and of consuming its account
    events come from TrustedIssuerSettings and EventConsumerSettings."""

    #: Used in logs, metrics, the WWW-Authenticate realm and as the default database name.
    SERVICE_NAME = "todo"
    #: OpenAPI info.
    API_TITLE = "Todo API"
    # 0.2.0: a query argument an operation does not name is a 422 on every operation
    # (additions only).
    # 0.5.0: operation ids, declared headers, servers, a todo's etag (additions only).
    # 0.6.0: the oauth2Password scheme (log in at auth's token endpoint: Swagger UI's
    # Authorize) beside bearerAuth (additions only).
    # 0.7.0: If-None-Match on PATCH, PUT and DELETE (RFC 9110 section 13.1.2); a query
    # argument given twice is a 422 (additions; the stricter query check is a fix).
    #: OpenAPI info.
    API_VERSION = "0.7.0"
    #: Where clients reach this service: the OpenAPI document's server (generated clients,
    #: Swagger UI's "Try it out").
    PUBLIC_URL = "http://127.0.0.1:5002"

    #: How long an Idempotency-Key is remembered (and replayed) after its first use.
    IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 60 * 60
    #: How long a retry waits for a concurrent request with the same key to finish (then 409);
    #: within the request's database budget (MONGO_TIMEOUT_MS), or the wait ends in a 503.
    IDEMPOTENCY_WAIT_SECONDS = 1.0

    #: How many todos one user may have (OWASP API4: no unbounded resource per user).
    MAX_TODOS_PER_USER = 10_000
    #: How many new Idempotency-Keys one user may use per day (UTC); each is a stored record.
    MAX_IDEMPOTENCY_KEYS_PER_USER_PER_DAY = 10_000
