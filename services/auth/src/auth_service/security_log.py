"""The security log: what happened to an account, appended in the same transaction as the
change it records (``mongo.transaction``), so that no change goes unrecorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app

from auth_service.origin import where_from
from auth_service.repositories import security_events, users
from auth_service.tokens import revoke_all
from factory_core import Document, mongo

SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
REFRESH_TOKEN_REUSED = "refresh_token_reused"  # noqa: S105 (event names, not secrets)
SESSION_ENDED = "session_ended"
PASSWORD_CHANGED = "password_changed"  # noqa: S105
PASSWORD_RESET = "password_reset"  # noqa: S105
EMAIL_CHANGED = "email_changed"
EMAIL_VERIFIED = "email_verified"
ACCOUNT_DISABLED = "account_disabled"
MFA_ENABLED = "mfa_enabled"
MFA_DISABLED = "mfa_disabled"
RECOVERY_CODE_USED = "recovery_code_used"

#: Every event type, as the API documents them.
TYPES = (
    SIGN_IN,
    SIGN_IN_FAILED,
    REFRESH_TOKEN_REUSED,
    SESSION_ENDED,
    PASSWORD_CHANGED,
    PASSWORD_RESET,
    EMAIL_CHANGED,
    EMAIL_VERIFIED,
    ACCOUNT_DISABLED,
    MFA_ENABLED,
    MFA_DISABLED,
    RECOVERY_CODE_USED,
)


def record(
    user_id: str, kind: str, *, session: str | None = None, by_admin: bool = False, **detail: Any
) -> None:
    """Append a ``kind`` event to ``user_id``'s log with the request's coarse origin and the
    session it concerns; ``by_admin`` when an administrator's request caused it."""
    assert kind in TYPES, kind
    retention = timedelta(seconds=int(current_app.config["SECURITY_EVENT_RETENTION_SECONDS"]))
    security_events.append(
        user_id=user_id,
        event={
            "type": kind,
            "session": session,
            "actor": "admin" if by_admin else "account",
            **where_from(),
            **detail,
        },
        retention=retention,
    )


def replace_password(user: Document, password_hash: str, *, kind: str, session: str | None) -> bool:
    """Store ``password_hash`` over the hash ``user`` was read with, revoke every token of the
    account and log ``kind``: one transaction. False (nothing done) when the password changed
    meanwhile (a reset, another session)."""

    def replace() -> bool:
        if not users.replace_password_hash(
            user_id=user["_id"],
            checked_hash=user["password_hash"],
            password_hash=password_hash,
            token_version=revoke_all(user),
        ):
            raise _ChangedMeanwhileError
        record(str(user["_id"]), kind, session=session)
        return True

    try:
        return mongo.transaction(replace)
    except _ChangedMeanwhileError:
        return False


class _ChangedMeanwhileError(Exception):
    """Aborts the transaction: the revocation made before the failed update is undone too."""
