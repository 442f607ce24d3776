"""Marshmallow schemas: every request field validated, every response shaped (no hashes)."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

import marshmallow as ma
from flask import request
from marshmallow import validate

from auth_service.passwords import MAX_LENGTH, MIN_LENGTH, is_common
from auth_service.security_log import TYPES as SECURITY_EVENT_TYPES
from factory_core import DocumentSchema, Instant, Problem

USERNAME_MIN, USERNAME_MAX = 3, 32
# 3 to 32 letters or digits of any script, "." "_" "-"; surrounding whitespace is trimmed.
# Checked on the value as sent (before NFKC), so that what the spec's pattern admits is
# exactly what is accepted.
USERNAME_PATTERN = rf"^\s*[\w.-]{{{USERNAME_MIN},{USERNAME_MAX}}}\s*$"
_USERNAME = re.compile(USERNAME_PATTERN)
EMAIL_MAX = 254


def _validate_username(value: str) -> None:
    if not _USERNAME.fullmatch(value):
        raise ma.ValidationError(
            f"Use {USERNAME_MIN} to {USERNAME_MAX} letters, digits, '.', '_' and '-'."
        )


def _validate_new_password(value: str) -> None:
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
        raise ma.ValidationError(
            f"Length must be between {MIN_LENGTH} and {MAX_LENGTH} characters."
        )
    if is_common(value):
        raise ma.ValidationError("This password is too common; choose another.")


def _password(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        required=True,
        load_only=True,
        metadata={"format": "password", "minLength": MIN_LENGTH, "maxLength": MAX_LENGTH},
        **kwargs,
    )


def _email(*, required: bool = False) -> ma.fields.Email:
    return ma.fields.Email(
        required=required,
        allow_none=True,
        validate=validate.Length(max=EMAIL_MAX),
        metadata={"example": "alice@example.org"},
    )


class RegisterSchema(ma.Schema):
    username = ma.fields.String(
        required=True,
        validate=[validate.Length(max=256), _validate_username],
        metadata={
            "description": "Trimmed and NFKC-normalized; unique regardless of case.",
            "pattern": USERNAME_PATTERN,
            "example": "alice",
        },
    )
    password = _password(validate=_validate_new_password)
    email = _email()


class LoginSchema(ma.Schema):
    username = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=256), metadata={"example": "alice"}
    )
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=MAX_LENGTH),
        metadata={"format": "password"},
    )


GIVEN_TWICE = "Given more than once."


class TokenRequestSchema(LoginSchema):
    """OAuth2's password grant (RFC 6749 section 4.3.2), a form as Swagger UI sends it.
    Parameters it does not know are ignored, and a form it cannot take is refused, as RFC 6749
    sections 3.2 and 5.2 say."""

    class Meta:
        unknown = ma.EXCLUDE

    grant_type = ma.fields.String(
        required=True,
        validate=validate.OneOf(["password"]),
        metadata={"description": "Only `password`."},
    )
    scope = ma.fields.String(
        validate=validate.Length(max=1024),
        metadata={"description": "Ignored: a token carries its account's roles."},
    )
    client_id = ma.fields.String(
        validate=validate.Length(max=256), metadata={"description": "Ignored."}
    )
    client_secret = ma.fields.String(
        load_only=True, validate=validate.Length(max=256), metadata={"description": "Ignored."}
    )

    @ma.pre_load
    def once_each(self, data: Any, **_kwargs: Any) -> Any:
        """RFC 6749 section 3.2: no parameter it reads more than once (taking the first, as a
        form is read, would let a proxy and this service act on two different requests)."""
        twice = [name for name in self.fields if len(request.form.getlist(name)) > 1]
        if twice:
            raise ma.ValidationError({name: [GIVEN_TWICE] for name in twice})
        return data

    def handle_error(
        self, error: ma.ValidationError, data: Any, *, many: bool, **kwargs: Any
    ) -> None:
        """A 400 with OAuth2's error (marshmallow's hook), not the usual 422."""
        repeated = [GIVEN_TWICE] in error.messages.values()  # type: ignore[union-attr]
        if not repeated and "grant_type" in data and data.get("grant_type") != "password":
            raise oauth_refusal(
                "Only the password grant is offered here.", error="unsupported_grant_type"
            )
        raise oauth_refusal(
            "The request is missing a parameter or has an invalid one; see errors.",
            error="invalid_request",
            errors={"form": error.messages},
        )


def oauth_refusal(
    detail: str, *, error: str, code: str | None = None, errors: dict[str, Any] | None = None
) -> Problem:
    """A 400 as RFC 6749 section 5.2 has it: OAuth2's `error` and `error_description` as the
    problem's extension members (what OAuth2 clients, Swagger UI among them, show); ``code``
    (the problem's) is ``error`` unless said."""
    return Problem(
        400,
        detail,
        code=code or error,
        errors=errors,
        members={"error": error, "error_description": detail},
    )


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=MAX_LENGTH)
    )
    new_password = _password(validate=_validate_new_password)


def _current_password() -> ma.fields.String:
    return ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=MAX_LENGTH),
        metadata={"format": "password", "description": "The account's current password."},
    )


class AccountDeletionSchema(ma.Schema):
    password = _current_password()


class UserUpdateSchema(ma.Schema):
    """The new address, and the current password: whoever changes the address can reset the
    password through it."""

    email = _email(required=True)
    password = _current_password()


class TokenPairSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(
        required=True, metadata={"description": "Seconds until the access token expires."}
    )


class UserSchema(DocumentSchema):
    """An account as its owner sees it."""

    id = ma.fields.String(attribute="_id", dump_only=True)
    username = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True, allow_none=True)
    email_verified = ma.fields.Function(
        lambda user: user.get("email_verified_at") is not None,
        dump_only=True,
        metadata={
            "type": "boolean",
            "description": "Whether the owner followed the link mailed to `email`; only a "
            "verified address is used to reset the password.",
        },
    )
    roles = ma.fields.List(ma.fields.String(), dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True, default_timezone=UTC)
    mfa_enabled = ma.fields.Function(
        lambda user: bool(user.get("mfa")),
        dump_only=True,
        metadata={"type": "boolean", "description": "Whether sign-in needs a one-time code."},
    )


class AdminUserSchema(UserSchema):
    """An account as an administrator sees it."""

    disabled = ma.fields.Boolean(dump_only=True)


class JWKSchema(ma.Schema):
    kty = ma.fields.String(required=True)
    kid = ma.fields.String(required=True)
    alg = ma.fields.String(required=True)
    use = ma.fields.String(required=True)
    crv = ma.fields.String()
    x = ma.fields.String()
    y = ma.fields.String()
    n = ma.fields.String()
    e = ma.fields.String()


class JWKSetSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Nested(JWKSchema), required=True)


class RevocationQuerySchema(ma.Schema):
    since = Instant(
        default_timezone=UTC,
        metadata={"description": "RFC 3339; only revocations recorded at or after it."},
    )
    limit = ma.fields.Integer(load_default=1000, validate=validate.Range(min=1, max=5000))


def _rfc3339(value: Any) -> str | None:
    if value is None:
        return None
    text: str = value.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


class RevocationSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(["token", "family", "subject"]))
    value = ma.fields.String(required=True, metadata={"description": "A jti, fid or sub."})
    revoked_at = ma.fields.Function(lambda item: _rfc3339(item["revoked_at"]), required=True)
    not_before = ma.fields.Function(
        lambda item: _rfc3339(item.get("not_before")),
        metadata={
            "description": "Subjects only: when every token of the account was revoked. "
            "A token without a `ver` claim is revoked when its iat is earlier."
        },
    )
    version = ma.fields.Integer(
        metadata={
            "description": "Subjects only: the account's token version since this revocation; "
            "a token whose `ver` claim is lower is revoked."
        },
    )
    expires_at = ma.fields.Function(lambda item: _rfc3339(item["expires_at"]), required=True)

    @ma.post_dump
    def _drop_empty(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {name: value for name, value in data.items() if value is not None}


class RevocationFeedSchema(ma.Schema):
    now = ma.fields.Function(lambda feed: _rfc3339(feed["now"]), required=True)
    has_more = ma.fields.Boolean(required=True)
    items = ma.fields.List(ma.fields.Nested(RevocationSchema), required=True)


class EventQuerySchema(ma.Schema):
    after = ma.fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=2**53),
        metadata={"description": "The sequence of the last event already handled (0: none)."},
    )
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class EventSchema(ma.Schema):
    sequence = ma.fields.Integer(
        attribute="_id",
        required=True,
        metadata={"description": "Its place in the feed: the cursor to ask `after` next."},
    )
    id = ma.fields.String(
        required=True, metadata={"description": "Stable: a consumer may see an event twice."}
    )
    type = ma.fields.String(required=True, metadata={"example": "account.deleted"})
    subject = ma.fields.String(required=True, metadata={"description": "The account's id."})
    occurred_at = ma.fields.Function(lambda event: _rfc3339(event["occurred_at"]), required=True)


class EventFeedSchema(ma.Schema):
    events = ma.fields.List(ma.fields.Nested(EventSchema), required=True)
    has_more = ma.fields.Boolean(required=True)
    head = ma.fields.Integer(
        required=True, metadata={"description": "The sequence of the newest event."}
    )
    oldest = ma.fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "The oldest sequence still kept (null: none kept)."},
    )


TOKEN_MAX = 128


def _token(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=TOKEN_MAX),
        metadata={"description": "The token of the link the mail carried."},
        **kwargs,
    )


class PasswordResetRequestSchema(ma.Schema):
    identifier = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=EMAIL_MAX),
        metadata={
            "description": "The account's username, or its verified e-mail address.",
            "example": "alice@example.org",
        },
    )


class AcceptedSchema(ma.Schema):
    detail = ma.fields.String(required=True)


class TokenQuerySchema(ma.Schema):
    token = _token()


class PasswordResetSchema(ma.Schema):
    token = _token()
    new_password = _password(validate=_validate_new_password)


class ResetTokenStatusSchema(ma.Schema):
    valid = ma.fields.Boolean(required=True)
    expires_at = ma.fields.Function(lambda status: _rfc3339(status["expires_at"]), required=True)


class EmailVerifiedSchema(ma.Schema):
    email = ma.fields.String(required=True)
    email_verified = ma.fields.Function(
        lambda user: user.get("email_verified_at") is not None,
        required=True,
        metadata={"type": "boolean"},
    )


class SessionSchema(DocumentSchema):
    """A login session: the tokens of one login and their refreshes (a refresh-token family)."""

    id = ma.fields.String(attribute="_id", dump_only=True)
    created_at = ma.fields.AwareDateTime(
        dump_only=True, default_timezone=UTC, metadata={"description": "When the login was."}
    )
    last_used_at = ma.fields.AwareDateTime(
        dump_only=True,
        default_timezone=UTC,
        metadata={"description": "The session's last refresh (its login, if none since)."},
    )
    expires_at = ma.fields.AwareDateTime(
        dump_only=True,
        default_timezone=UTC,
        metadata={"description": "When its refresh token stops working, unless refreshed."},
    )
    client = ma.fields.String(
        dump_only=True,
        metadata={"description": 'The client, coarsely: "Firefox on Linux", "Python Requests".'},
    )
    address = ma.fields.String(
        dump_only=True,
        metadata={"description": "The network it was last used from: a /24 (IPv4) or /64 (IPv6)."},
    )
    current = ma.fields.Boolean(
        dump_only=True,
        metadata={"description": "Whether this request came with one of its tokens."},
    )


class SecurityEventSchema(DocumentSchema):
    """An entry of an account's security log."""

    id = ma.fields.String(attribute="_id", dump_only=True)
    type = ma.fields.String(
        dump_only=True,
        metadata={
            "x-extensible-enum": list(SECURITY_EVENT_TYPES),
            "description": "What happened. More types may be added: show unknown ones as such.",
        },
    )
    at = ma.fields.AwareDateTime(dump_only=True, default_timezone=UTC)
    session = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The session it concerns (a session's id), if any."},
    )
    actor = ma.fields.String(
        dump_only=True,
        metadata={
            "enum": ["account", "admin"],
            "description": "Whose request it was: the account's own, or an administrator's.",
        },
    )
    methods = ma.fields.List(
        ma.fields.String(),
        dump_only=True,
        metadata={"description": "For sign_in: how (RFC 8176): pwd, and otp with a code."},
    )
    reason = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "For sign_in_failed: wrong_password, wrong_code or disabled. For "
            "session_ended: logout, ended (by the account or an administrator) or "
            "refresh_token_reused."
        },
    )
    client = ma.fields.String(
        dump_only=True, metadata={"description": "The requesting client, coarsely."}
    )
    address = ma.fields.String(
        dump_only=True,
        metadata={"description": "The requesting network: a /24 (IPv4) or /64 (IPv6)."},
    )


def _code(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=validate.Regexp(r"^[0-9]{6}$", error="Six digits."),
        metadata={"description": "The authenticator app's current six-digit code."},
        **kwargs,
    )


def _code_or_recovery_code() -> ma.fields.String:
    return ma.fields.String(
        required=True,
        validate=validate.Length(min=6, max=32),
        metadata={
            "description": "The authenticator app's current six-digit code, or one of the "
            "recovery codes given at enrolment (each works once)."
        },
    )


class MfaEnrolmentSchema(ma.Schema):
    secret = ma.fields.String(
        required=True, metadata={"description": "The shared secret (base32), to type in."}
    )
    otpauth_uri = ma.fields.String(
        required=True, metadata={"description": "The otpauth:// URI authenticator apps read."}
    )
    qr_svg = ma.fields.String(
        required=True, metadata={"description": "The URI as a QR code, an SVG document."}
    )


class MfaConfirmSchema(ma.Schema):
    code = _code(required=True)


class RecoveryCodesSchema(ma.Schema):
    recovery_codes = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "Ten single-use codes for when the authenticator is lost: "
            "shown once, stored only as digests."
        },
    )


class MfaChallengeSchema(ma.Schema):
    mfa_required = ma.fields.Boolean(required=True)
    challenge = ma.fields.String(
        required=True, metadata={"description": "Send it to /auth/login/mfa with a code."}
    )
    expires_in = ma.fields.Integer(
        required=True, metadata={"description": "Seconds the challenge can be used."}
    )


class MfaLoginSchema(ma.Schema):
    challenge = ma.fields.String(required=True, validate=validate.Length(min=1, max=1024))
    code = _code_or_recovery_code()


class MfaDisableSchema(ma.Schema):
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH))
    code = _code_or_recovery_code()
