"""Two-factor sign-in with time-based one-time codes (RFC 6238, pyotp), and recovery codes.

Enrolment keeps a new secret pending until the authenticator's first code confirms it. A login
whose password is right then gets a short-lived signed challenge instead of tokens, exchanged
with a code (or a recovery code) for the pair. A code is accepted once: its time step must be
later than the last one used (a single conditional update), so a code seen by someone else
cannot be replayed in its window. Attempts are limited per account.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import pyotp
import segno
from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from auth_service import security_log
from auth_service.ratelimit import rate_limits
from auth_service.repositories import users
from auth_service.tokens import ONE_TIME_CODE, PASSWORD, token_version
from factory_core import Document, Problem, mongo, unauthorized

#: How many recovery codes an enrolment gives, each good for one sign-in.
RECOVERY_CODES = 10
#: Codes of the time step before and after the server's are accepted too (clock drift).
VALID_WINDOW = 1
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#: Sign-ins with a second factor (RFC 8176 method names).
WITH_CODE = [PASSWORD, ONE_TIME_CODE]


def enrol(user: Document) -> Document:
    """A new secret for ``user``, pending until confirmed: the secret, its otpauth:// URI and
    that URI as a QR code (SVG) for an authenticator app. 409 when MFA is on already."""
    secret = pyotp.random_base32()
    if not users.start_mfa_enrolment(user_id=user["_id"], secret=secret):
        raise Problem(409, "Two-factor sign-in is on already.", code="mfa_enabled")
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user["username"], issuer_name=current_app.config["MFA_ISSUER"]
    )
    svg = io.BytesIO()
    segno.make(uri, error="m").save(svg, kind="svg", scale=4, xmldecl=False)
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": svg.getvalue().decode()}


def confirm(user: Document, code: str) -> list[str]:
    """Turn MFA on with the pending secret, if ``code`` is its current code; the recovery codes
    (shown once, stored as digests)."""
    pending = user.get("mfa_pending")
    if user.get("mfa") or not pending:
        raise Problem(409, "There is no enrolment to confirm.", code="no_mfa_enrolment")
    limit_attempts(user)
    step = _matching_step(pending["secret"], code)
    if step is None:
        raise Problem(403, "The code is wrong.", code="wrong_code")
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]

    def turn_on() -> None:
        if not users.enable_mfa(
            user_id=user["_id"],
            secret=pending["secret"],
            step=step,
            recovery_codes=[_digest(each) for each in codes],
        ):
            raise Problem(409, "The enrolment changed meanwhile.", code="no_mfa_enrolment")
        security_log.record(str(user["_id"]), security_log.MFA_ENABLED)

    mongo.transaction(turn_on)
    return codes


def check_second_factor(user: Document, code: str) -> None:
    """Spend ``code`` of ``user``'s: six digits are a one-time code, anything else a recovery
    code; 403 unless it is good and unused. Inside the caller's transaction."""
    mfa = user.get("mfa")
    if not mfa:
        raise Problem(409, "Two-factor sign-in is off.", code="mfa_not_enabled")
    if re.fullmatch(r"[0-9]{6}", code):
        step = _matching_step(mfa["secret"], code)
        if step is not None and users.use_totp_step(user_id=user["_id"], step=step):
            return
    elif users.use_recovery_code(user_id=user["_id"], digest=_digest(code)):
        security_log.record(str(user["_id"]), security_log.RECOVERY_CODE_USED)
        return
    raise Problem(403, "The code is wrong, or was used already.", code="wrong_code")


def challenge(user: Document) -> Document:
    """The answer to a right password when MFA is on: a signed, short-lived challenge naming
    the account (and its token version: a password change since voids it)."""
    token = _serializer().dumps({"sub": str(user["_id"]), "ver": token_version(user)})
    return {
        "mfa_required": True,
        "challenge": token,
        "expires_in": int(current_app.config["MFA_CHALLENGE_SECONDS"]),
    }


def challenged_user(token: str) -> Document:
    """The account a challenge was issued to, as it is now; 401 if the challenge is forged,
    expired, or the account changed its password, was disabled or turned MFA off since."""
    try:
        claims: dict[str, Any] = _serializer().loads(
            token, max_age=int(current_app.config["MFA_CHALLENGE_SECONDS"])
        )
    except BadData:
        claims = {}
    user = users.find_by_id(user_id=str(claims.get("sub", "")))
    if (
        user is None
        or user["disabled"]
        or user.get("deleting")
        or not user.get("mfa")
        or token_version(user) != claims.get("ver")
    ):
        raise unauthorized(
            "The challenge is invalid or expired. Log in again.",
            code="invalid_challenge",
            error=None,
        )
    return user


def limit_attempts(user: Document) -> None:
    """Count an attempt at a code for ``user``; 429 past MFA_RATE_LIMIT_PER_ACCOUNT. Never
    inside a transaction: a refused attempt aborts it, and the count must stay."""
    rate_limits.hit("mfa", account=str(user["_id"]))


def _matching_step(secret: str, code: str) -> int | None:
    """The time step whose code ``code`` is, within the drift window; None if none."""
    totp = pyotp.TOTP(secret)
    now = datetime.now(UTC)
    step = totp.timecode(now)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def _new_recovery_code() -> str:
    """Ten characters of base32 (50 bits), grouped for reading: "ABCDE-FGHIJ"."""
    raw = "".join(secrets.choice(_BASE32) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _digest(recovery_code: str) -> str:
    """A recovery code's stored form: high-entropy and single-use, so SHA-256 suffices (a slow
    hash is for guessable secrets); spelling differences (case, the dash) do not matter."""
    normal = recovery_code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(b"recovery-code:" + normal.encode()).hexdigest()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="auth-mfa-challenge")
