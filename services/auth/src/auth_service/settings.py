"""Settings of the auth service; every one can be set as AUTH_<NAME> in the environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from auth_service.repositories.refresh_tokens import rotation_leases
from factory_core import PLACEHOLDER, MailSettings, is_weak_secret, mail_problems


class AuthSettings(MailSettings):
    """auth's own settings; those of its mail (MAIL_*) come from MailSettings."""

    #: Used in logs, metrics, the WWW-Authenticate realm and as the default database name.
    SERVICE_NAME = "auth"
    #: OpenAPI info.
    API_TITLE = "Auth API"
    # 1.0.0: DELETE /auth/me needs a fresh token and the password (a breaking change).
    # 1.1.0: e-mail verification and password reset (additions only).
    # 1.2.0: a query argument an operation does not name is a 422 on every operation; 409 for
    # a password change that lost a race; PATCH /auth/me may be 404 or 429 (additions only).
    # 1.4.0: signed-in sessions, listed and ended by their owner and by admins; the security log
    # (additions).
    # 2.0.0: POST /auth/refresh documents its own security scheme, refreshToken, instead of
    # bearerAuth (the access tokens'), and the feeds' scheme is feedToken (was
    # revocationFeedToken, for both feeds); nothing changed on the wire, but generated clients
    # key their credentials by scheme. Also operation ids and declared headers; two-factor
    # sign-in (login answers 202 with a challenge for an account that turned it on) and
    # tokens naming how they signed in (amr) (additions).
    # 2.1.0: POST /auth/token, OAuth2's password grant (Swagger UI's Authorize logs in), and
    # the oauth2Password scheme beside bearerAuth on every operation taking an access token
    # (additions). 2.1.1: /auth/token refuses a parameter given twice (RFC 6749 section 3.2).
    # 3.0.0: PATCH /auth/me needs a fresh token and the current password (a required member
    # of UserUpdate): whoever changes the address can reset the password through it.
    #: OpenAPI info.
    API_VERSION = "3.0.0"

    # Keys. Exactly one key signs; every configured key verifies (rotation without logouts).
    #: PEM text of the private key that signs tokens (EC P-256 for ES256, RSA >= 2048 for RS256).
    JWT_PRIVATE_KEY = ""
    #: Path of a PEM file holding the signing key (used when JWT_PRIVATE_KEY is empty).
    JWT_PRIVATE_KEY_FILE = ""
    #: PEM text of one or more extra public (or private) keys that still verify: retired
    #: signing keys, kept until the tokens they signed have expired.
    JWT_VERIFY_KEYS = ""
    #: PEM files of extra verifying keys: a JSON list or a comma-separated string of paths.
    JWT_VERIFY_KEY_FILES: ClassVar[list[str] | str] = []
    #: Development and testing only: with no key configured, a key pair is generated into this
    #: file of the instance folder (mode 0600) on first run. Production refuses to start instead.
    JWT_DEV_KEY_FILE = "jwt-signing-key.pem"

    #: Lifetime of access tokens, in seconds.
    ACCESS_TOKEN_TTL_SECONDS = 15 * 60
    #: Lifetime of refresh tokens, in seconds; each refresh issues a new one (rotation).
    REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600
    #: A refresh token used again within this many seconds of its rotation gets the same new
    #: pair again (a retry whose answer was lost); later, it is reuse and ends the session.
    #: Keep it above MONGO_TIMEOUT_MS + 3 s: then a retry can also finish a rotation whose
    #: request died (docs/services/auth.md).
    REFRESH_RETRY_GRACE_SECONDS = 10

    #: Shared secret other services send (Authorization: Bearer) to read GET /auth/revocations
    #: and GET /auth/events.
    FEED_TOKEN = PLACEHOLDER
    #: Routes whose access lines are DEBUG: the probes, and what other services fetch on
    #: their own (the feeds every few seconds, the keys as each worker starts).
    ACCESS_LOG_QUIET_ROUTES: ClassVar[list[str]] = [
        *MailSettings.ACCESS_LOG_QUIET_ROUTES,
        "/auth/revocations",
        "/auth/events",
        "/.well-known/jwks.json",
    ]
    #: How long account events stay in the event feed: a consumer down for less catches up.
    EVENT_RETENTION_SECONDS = 7 * 24 * 3600
    #: The issuer name authenticator apps show beside the account (otpauth:// URIs).
    MFA_ISSUER = "Flask Factory"
    #: How long a login's challenge may be exchanged, with a code, for the token pair.
    MFA_CHALLENGE_SECONDS = 300
    #: How long each entry of an account's security log is kept (the log goes with the account).
    SECURITY_EVENT_RETENTION_SECONDS = 365 * 24 * 3600

    # argon2id parameters: argon2-cffi's RFC 9106 low-memory profile, above OWASP's minimum
    # (m=19456 KiB, t=2, p=1). Changing them rehashes each password at its next login.
    #: Argon2id iterations.
    ARGON2_TIME_COST = 3
    #: Argon2id memory (64 MiB).
    ARGON2_MEMORY_COST_KIB = 65536
    #: Argon2id lanes.
    ARGON2_PARALLELISM = 4
    #: Passwords one worker process hashes or checks at once (its other threads wait their
    #: turn): each hash holds ARGON2_MEMORY_COST_KIB, so this bounds a worker's memory under a
    #: burst of logins, whatever GUNICORN_THREADS is.
    ARGON2_CONCURRENCY = 1
    #: In ENV=testing only, hash with minimal argon2 cost so the test suite stays fast.
    ARGON2_FAST_IN_TESTING = True

    # Rate limits, in the `limits` notation ("10 per minute", "100/hour;1000/day"), counted in
    # MongoDB so that every worker and replica shares them.
    #: Login attempts per normalized username, from addresses the account has not logged in
    #: from (see LOGIN_TRUSTED_ADDRESS_SECONDS).
    LOGIN_RATE_LIMIT_PER_USERNAME = "10 per minute;100 per day"
    #: How long an address (an IPv6 /64) stays exempt from the per-username login limit after a
    #: successful login from it; a password change, disable or delete ends it at once.
    LOGIN_TRUSTED_ADDRESS_SECONDS = 30 * 24 * 3600
    #: Password checks (password change, account deletion) per session (a login's tokens).
    PASSWORD_CHECK_RATE_LIMIT_PER_SESSION = "5 per minute;20 per day"  # noqa: S105 (a rate)
    #: Login attempts per client address (see TRUSTED_PROXY_COUNT behind a proxy).
    LOGIN_RATE_LIMIT_PER_ADDRESS = "30 per minute;1000 per day"
    #: Registrations per normalized username.
    REGISTER_RATE_LIMIT_PER_USERNAME = "5 per minute"
    #: Registrations per client address.
    REGISTER_RATE_LIMIT_PER_ADDRESS = "10 per minute;100 per day"
    #: Attempts at a one-time code per account (enrolment, sign-in, turning MFA off).
    MFA_RATE_LIMIT_PER_ACCOUNT = "5 per minute;30 per day"
    #: Turn rate limiting off entirely (never in production).
    RATE_LIMITS_ENABLED = True

    # Account recovery: e-mail verification and password reset, by mail (MAIL_* settings).
    #: Off, the recovery endpoints answer 404 and no mail is sent; on, production needs a
    #: mail server and sender.
    ACCOUNT_RECOVERY_ENABLED = True
    #: Where clients reach this service: the OpenAPI document's server and the base of the
    #: links in its mail (never taken from a request's Host header).
    PUBLIC_URL = "http://127.0.0.1:5001"
    #: The link of a verification mail; {public_url} and {token} are filled in.
    EMAIL_VERIFICATION_URL = "{public_url}/auth/email/verify?token={token}"
    #: The link of a reset mail: point it at the page of your app that asks for the new
    #: password and POSTs it with the token to /auth/password-reset/confirm.
    PASSWORD_RESET_URL = "{public_url}/auth/password-reset/confirm?token={token}"  # noqa: S105
    #: How long a verification link works.
    EMAIL_VERIFICATION_TTL_SECONDS = 24 * 3600
    #: How long a reset link works.
    PASSWORD_RESET_TTL_SECONDS = 30 * 60
    #: Reset requests per client address.
    PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS = "5 per minute;50 per day"  # noqa: S105
    #: Mails to one account (verification and reset links), whatever path sends them and
    #: whatever name (username, address) a request used: counted by the account.
    MAIL_RATE_LIMIT_PER_ACCOUNT = "3 per hour;10 per day"
    #: Uses of a reset or verification token (valid or not) per client address.
    RECOVERY_TOKEN_RATE_LIMIT_PER_ADDRESS = "20 per minute;200 per day"  # noqa: S105

    @classmethod
    def problems(cls, config: Mapping[str, Any]) -> list[str]:
        found = super().problems(config)
        if not (config.get("JWT_PRIVATE_KEY") or config.get("JWT_PRIVATE_KEY_FILE")):
            found.append(
                "JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE must be configured (the token signing "
                "key; only development generates one)"
            )
        grace = float(config.get("REFRESH_RETRY_GRACE_SECONDS") or 0)
        takeover = rotation_leases(config).taken_over_after.total_seconds()
        if 0 < grace <= takeover:
            found.append(
                f"REFRESH_RETRY_GRACE_SECONDS must be more than {takeover:g} (MONGO_TIMEOUT_MS "
                "+ 3 s: a retry finishes a rotation whose request died only then), or 0"
            )
        if is_weak_secret(config, "FEED_TOKEN", 32):
            found.append("FEED_TOKEN must be set to a random value of at least 32 characters")
        if not config.get("RATE_LIMITS_ENABLED"):
            found.append("RATE_LIMITS_ENABLED must be on in production")
        if config.get("ACCOUNT_RECOVERY_ENABLED"):
            for problem in mail_problems(config):
                found.append(f"{problem} (or ACCOUNT_RECOVERY_ENABLED off)")
        return found
