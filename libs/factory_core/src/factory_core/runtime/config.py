"""Configuration: defaults, instance file, prefixed environment, overrides; production refusals."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from flask import Flask
from pymongo import uri_parser

#: A value that marks a setting as "must be configured"; production refuses to start with it.
PLACEHOLDER = "change-me"

ENVIRONMENTS = ("development", "testing", "production")
#: Hosts a connection to which does not leave the machine (cleartext is tolerated there).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or incomplete for the selected environment."""


class Settings:
    """Defaults shared by every service; a service subclasses it and adds its own."""

    #: development, testing or production. Production is the default so that a service
    #: started without configuration refuses to run with placeholder secrets.
    ENV = "production"
    #: Flask debug; refused in production.
    DEBUG = False
    #: Set by ENV=testing; refused in production.
    TESTING = False
    #: Flask secret; production needs 32+ random characters.
    SECRET_KEY = PLACEHOLDER

    #: Used in logs, metrics, the WWW-Authenticate realm and as the default database name.
    SERVICE_NAME = "service"
    #: The title of the OpenAPI document.
    API_TITLE = "Service API"
    #: The contract's version: a breaking change needs a new major number (make breaking).
    API_VERSION = "0.1.0"
    #: The contract's license (OpenAPI info.license): its SPDX identifier.
    API_LICENSE = "MIT"
    #: Where the license's text is.
    API_LICENSE_URL = "https://spdx.org/licenses/MIT.html"
    #: Where clients reach this service: the OpenAPI document's server (what generated clients
    #: and Swagger UI's "Try it out" call), and the base of any link the service mails. Never
    #: taken from a request's Host header. A service sets the URL of its `make run` port.
    PUBLIC_URL = "http://127.0.0.1:5000"
    #: The auth service's OAuth2 token endpoint as a browser reaches it: where Swagger UI's
    #: Authorize logs in (the spec's oauth2Password scheme); the one other origin /docs may
    #: call. Auth must allow this service's origin (its CORS_ORIGINS) unless they share one.
    TOKEN_URL = "http://127.0.0.1:5001/auth/token"  # noqa: S105 (a URL, not a secret)
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"

    #: MongoDB connection string.
    MONGO_URI = "mongodb://127.0.0.1:27017/"
    #: Database name; empty means "the database in MONGO_URI, else SERVICE_NAME".
    MONGO_DB_NAME = ""
    # Short timeouts make an outage a fast 503, not a hung worker (gunicorn's timeout: 30 s).
    #: How long to look for a server before answering 503.
    MONGO_SERVER_SELECTION_TIMEOUT_MS = 1500
    #: TCP connect timeout.
    MONGO_CONNECT_TIMEOUT_MS = 1000
    #: One time budget (pymongo's client-side operation timeout) for a request's database
    #: work, every operation and retry together: a hung database is a 503 within it. Outside
    #: requests (background loops, commands) it bounds each operation.
    MONGO_TIMEOUT_MS = 2000
    #: Connections per process.
    MONGO_MAX_POOL_SIZE = 50
    #: Write concern of every write (majority, 1, ...).
    MONGO_WRITE_CONCERN = "majority"
    #: Seconds a client is told to wait (Retry-After) when the database is unavailable.
    MONGO_RETRY_AFTER_SECONDS = 2
    #: Apply pending migrations when a process first uses the database (under their lease).
    #: Unset: on outside production; production runs ``flask migrate up`` before a deploy's
    #: workers take traffic (deploy/), and its workers are not ready while the database is behind.
    MIGRATE_AT_START: bool | None = None
    #: A migration runner's lease: another runner takes over this long after one stopped
    #: renewing it (between steps and batches).
    MIGRATION_LEASE_SECONDS = 120
    #: How long a runner waits for another to finish before giving up.
    MIGRATION_WAIT_SECONDS = 600
    #: The database time budget of one step (an index build on a large collection is slow).
    MIGRATION_STEP_TIMEOUT_SECONDS = 3600
    #: /readyz answers within this many seconds, whatever the database does (deploy/'s
    #: readiness probes time out after 3 s).
    READINESS_TIMEOUT_SECONDS = 1.0

    #: Request body limit in bytes (413 beyond).
    MAX_CONTENT_LENGTH = 64 * 1024
    #: Origins allowed by CORS, a JSON list: exact origins, or regular expressions (anchor
    #: them, ^...$: CORS matches from the start only); empty disables CORS headers entirely.
    CORS_ORIGINS: ClassVar[list[str]] = []
    #: Number of reverse proxies in front of the service whose X-Forwarded-* headers are trusted.
    TRUSTED_PROXY_COUNT = 0
    #: Send Strict-Transport-Security; enable only when TLS terminates in front of the service.
    HSTS_SECONDS = 0
    #: How long a list's cursor (its Link rel="next") stays valid; an older one is a 400.
    CURSOR_MAX_AGE_SECONDS = 24 * 3600

    #: Root log level.
    LOG_LEVEL = "INFO"
    #: JSON logs (one object per line) or plain text for humans.
    LOG_JSON = True
    #: One line per request (factory_core.runtime.logs); off where a proxy in front logs them.
    ACCESS_LOG = True
    #: Routes (templates) whose access lines are DEBUG, not INFO: probes and scrapes, many a
    #: minute, bury the requests a person is looking for.
    ACCESS_LOG_QUIET_ROUTES: ClassVar[list[str]] = ["/livez", "/readyz", "/metrics"]

    #: The one accepted signing algorithm (ES256 or RS256).
    JWT_ALGORITHM = "ES256"
    #: Iss of issued tokens, required on verified ones.
    JWT_ISSUER = "auth-service"
    #: Aud of issued tokens, required on verified ones.
    JWT_AUDIENCE = "flask-factory"
    #: Leeway in seconds for exp/nbf checks, to absorb clock skew between hosts.
    JWT_LEEWAY_SECONDS = 5
    #: Verified tokens each process remembers, so a token is parsed and its signature checked
    #: once, not on every request (expiry, key, revocation still are); 0 turns it off.
    TOKEN_MEMORY_SIZE = 4096

    @classmethod
    def problems(cls, config: Mapping[str, Any]) -> list[str]:
        """Return what makes ``config`` unsafe for production; a service extends it."""
        found = []
        if config.get("DEBUG"):
            found.append("DEBUG must be off in production")
        if config.get("TESTING"):
            found.append("TESTING must be off in production")
        if is_weak_secret(config, "SECRET_KEY", 32):
            found.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if config.get("JWT_ALGORITHM") not in ("ES256", "RS256"):
            found.append("JWT_ALGORITHM must be ES256 or RS256")
        if write_concern(config.get("MONGO_WRITE_CONCERN")) == 0:
            found.append("MONGO_WRITE_CONCERN must acknowledge writes (majority, or 1 or more)")
        try:
            budget = float(config.get("MONGO_TIMEOUT_MS") or 0)
        except ValueError:
            budget = 0
        if not budget > 0:
            found.append("MONGO_TIMEOUT_MS must be a positive number (the requests' budget)")
        token = urlsplit(str(config.get("TOKEN_URL") or ""))
        if token.scheme != "https" and not (
            token.scheme == "http" and token.hostname in LOOPBACK_HOSTS
        ):
            # Swagger UI's Authorize sends a password there.
            found.append("TOKEN_URL must be an https URL (http only on a loopback host)")
        return found


def write_concern(value: Any) -> int | str:
    """MONGO_WRITE_CONCERN as pymongo takes its ``w``: a number of members, or a name."""
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def is_weak_secret(config: Mapping[str, Any], name: str, minimum: int) -> bool:
    """Whether the secret setting ``name`` is unset, the placeholder, or shorter than
    ``minimum`` characters (a production refusal)."""
    value = str(config.get(name) or "")
    return value == PLACEHOLDER or len(value) < minimum


def load_config(
    app: Flask,
    settings: type[Settings],
    env_prefix: str,
    overrides: Mapping[str, Any] | None = None,
) -> None:
    """Fill ``app.config`` in the fixed order: defaults, instance file, environment, overrides."""
    app.config.from_object(settings)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(prefix=env_prefix)
    if overrides:
        app.config.update(overrides)

    env = app.config["ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigurationError(
            f"{env_prefix}_ENV is {env!r}; expected one of {', '.join(ENVIRONMENTS)}"
        )
    if env == "testing":
        app.config["TESTING"] = True
    if not app.config["MONGO_DB_NAME"]:
        from_uri = uri_parser.parse_uri(app.config["MONGO_URI"])["database"]
        app.config["MONGO_DB_NAME"] = from_uri or app.config["SERVICE_NAME"]


def refuse_unsafe_production(app: Flask, settings: type[Settings], env_prefix: str) -> None:
    """Raise :class:`ConfigurationError` naming every unsafe production setting."""
    if app.config["ENV"] != "production":
        return
    found = settings.problems(app.config)
    if found:
        lines = "\n".join(f"  - {problem}" for problem in found)
        raise ConfigurationError(
            f"refusing to start {app.config['SERVICE_NAME']} in production:\n{lines}\n"
            f"Set these with {env_prefix}_<SETTING> environment variables or in "
            f"{os.path.join(app.instance_path, 'config.py')}; "
            f"for local work set {env_prefix}_ENV=development."
        )


def instance_path_from_env(env_prefix: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The instance folder: ``<PREFIX>_INSTANCE_PATH``, else ``INSTANCE_PATH`` (the images
    set it), else none (Flask's default)."""
    environ = environ if environ is not None else os.environ
    return environ.get(f"{env_prefix}_INSTANCE_PATH") or environ.get("INSTANCE_PATH")
