"""Account recovery: the mail it sends (rendered by factory_core.outbox's sender, outside any
request) and what its tokens do.

A reset request records only what was asked (the same insert for an account that exists and
for one that does not); the sender then looks the account up and, if its address is verified
and the account's mail budget allows, makes a reset token and mails the link. The token is
bound to the account's password hash and address at that moment: changing either voids it.
Every mail to an account spends one budget (MAIL_RATE_LIMIT_PER_ACCOUNT), counted by the
account whatever name the request used: in the request when the caller is the account (429),
in the sender for a reset (silently: a reset request's answer never depends on the account).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app

from auth_service import security_log
from auth_service.passwords import passwords
from auth_service.ratelimit import rate_limits
from auth_service.repositories import users
from auth_service.repositories.recovery_tokens import (
    RESET,
    VERIFY_EMAIL,
    recovery_tokens,
    reset_binding,
)
from factory_core import Document, Problem, mail, message, mongo

logger = logging.getLogger(__name__)

#: The mail that tells an address the account replaced it (not a token's purpose: no link).
ADDRESS_REPLACED = "address_replaced"


def enabled() -> None:
    """404 unless account recovery is on (ACCOUNT_RECOVERY_ENABLED)."""
    if not current_app.config["ACCOUNT_RECOVERY_ENABLED"]:
        raise Problem(404, "Account recovery is not enabled here.", code="not_enabled")


def wants_verification(user: Document) -> bool:
    """Whether a verification link would be mailed to the account's address now."""
    return bool(
        current_app.config["ACCOUNT_RECOVERY_ENABLED"]
        and user.get("email")
        and not user.get("email_verified_at")
    )


def spend_mail_budget(user_id: Any) -> None:
    """Count one mail to the account; 429 (nothing sent, nothing changed) past its budget."""
    rate_limits.hit("mail", account=str(user_id))


def mail_verification(user: Document) -> None:
    """Mail a verification link to the account's address (the budget already spent)."""
    mail.send_later(VERIFY_EMAIL, user_id=str(user["_id"]), email=user["email"])


def tell_replaced_address(user: Document) -> None:
    """Tell the account's verified address that another replaces it (in the change's
    transaction: told exactly when it happened). No budget: a fresh login made the change."""
    if user.get("email") and user.get("email_verified_at"):
        mail.send_later(ADDRESS_REPLACED, user_id=str(user["_id"]), email=user["email"])


def request_verification(user: Document) -> None:
    """Mail a verification link to the account's address, if it has one not yet verified."""
    if wants_verification(user):
        spend_mail_budget(user["_id"])
        mail_verification(user)


def request_reset(identifier: str) -> None:
    mail.send_later(RESET, identifier=identifier)


def _can_reset(user: Document | None, record: Document | None) -> bool:
    """The rules a reset token must meet, for its check and for its use alike: an active
    account whose password and verified address are still those the link was mailed for."""
    return (
        user is not None
        and record is not None
        and not user["disabled"]
        and not user.get("deleting")
        and user.get("email_verified_at") is not None
        and record["binding"] == reset_binding(user)
    )


def _reset_account(record: Document | None) -> Document | None:
    user = users.find_by_id(user_id=str(record["user_id"])) if record else None
    return user if _can_reset(user, record) else None


def reset_password(token: str, new_password: str) -> None:
    """Set the password of the token's account and end every session of it; 400 if the
    token is unknown, used, expired, or its account's password or address changed since."""
    user = _reset_account(recovery_tokens.consume(purpose=RESET, token=token))
    if user is None:
        raise _invalid_token()
    new_hash = passwords.hash(new_password)
    if not security_log.replace_password(
        user, new_hash, kind=security_log.PASSWORD_RESET, session=None
    ):
        raise _invalid_token()  # the password changed since the check: the link is void
    recovery_tokens.revoke(purpose=RESET, user_id=user["_id"])


def check_reset_token(token: str) -> Document:
    """The token's expiry if using it would work now (it stays usable); else 400."""
    record = recovery_tokens.peek(purpose=RESET, token=token)
    if record is None or _reset_account(record) is None:
        raise _invalid_token()
    return {"valid": True, "expires_at": record["expires_at"]}


def verify_email(token: str) -> Document:
    """Mark the address the token was sent to as verified; 400 if the token does not work,
    the account is disabled or being deleted, or has another address since."""
    record = recovery_tokens.consume(purpose=VERIFY_EMAIL, token=token)
    if record is None:
        raise _invalid_token()

    def verify() -> Document | None:
        user = users.mark_email_verified(user_id=record["user_id"], email=record["binding"])
        if user is not None:
            security_log.record(str(user["_id"]), security_log.EMAIL_VERIFIED)
        return user

    user = mongo.transaction(verify)
    if user is None:
        raise _invalid_token()
    return user


def _invalid_token() -> Problem:
    return Problem(
        400,
        "This link is invalid, used or expired. Ask for a new one.",
        code="invalid_token",
    )


def _link(setting: str, token: str) -> str:
    config = current_app.config
    return str(config[setting]).format(public_url=config["PUBLIC_URL"].rstrip("/"), token=token)


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} minutes" if minutes < 120 else f"{round(minutes / 60)} hours"


def render_reset(payload: Mapping[str, Any], *, attempt: int) -> Iterable[EmailMessage]:
    """The reset mail of each account the request named, whose address is verified and whose
    mail budget allows it (spent once per request, not per delivery attempt)."""
    ttl = float(current_app.config["PASSWORD_RESET_TTL_SECONDS"])
    for user in users.find_for_recovery(identifier=str(payload["identifier"])):
        if attempt == 0 and rate_limits.spend("mail", account=str(user["_id"])) is not None:
            logger.info("mail: no reset mail to account %s: its mail budget is spent", user["_id"])
            continue
        token = recovery_tokens.issue(
            purpose=RESET,
            user_id=user["_id"],
            binding=reset_binding(user),
            ttl=timedelta(seconds=ttl),
        )
        yield message(
            to=user["email"],
            subject="Reset your password",
            text=(
                f"Someone asked to reset the password of the account {user['username']}.\n\n"
                f"To choose a new password, open this link within {_minutes(ttl)}:\n\n"
                f"{_link('PASSWORD_RESET_URL', token)}\n\n"
                "It works once. If you did not ask for it, ignore this message: your password "
                "stays as it is.\n"
            ),
        )


def render_verification(payload: Mapping[str, Any], *, attempt: int) -> Iterable[EmailMessage]:
    """The verification mail, if the account is active and still has this address, unverified
    (its budget was spent by the request)."""
    user = users.find_by_id(user_id=str(payload["user_id"]))
    if (
        user is None
        or user["disabled"]
        or user.get("deleting")
        or user.get("email") != payload["email"]
        or user.get("email_verified_at")
    ):
        return
    ttl = float(current_app.config["EMAIL_VERIFICATION_TTL_SECONDS"])
    token = recovery_tokens.issue(
        purpose=VERIFY_EMAIL,
        user_id=user["_id"],
        binding=user["email"],
        ttl=timedelta(seconds=ttl),
    )
    yield message(
        to=user["email"],
        subject="Confirm your e-mail address",
        text=(
            f"Confirm that this address belongs to the account {user['username']} by opening "
            f"this link within {_minutes(ttl)}:\n\n"
            f"{_link('EMAIL_VERIFICATION_URL', token)}\n\n"
            "Only a confirmed address can be used to reset the account's password.\n"
        ),
    )


def render_address_replaced(payload: Mapping[str, Any], *, attempt: int) -> Iterable[EmailMessage]:
    """The notice to an address an account no longer uses (no link, not the new address)."""
    user = users.find_by_id(user_id=str(payload["user_id"]))
    if user is None or user.get("deleting"):
        return
    yield message(
        to=str(payload["email"]),
        subject="The e-mail address of your account was changed",
        text=(
            f"The account {user['username']} no longer uses this e-mail address: another "
            "replaced it, from a session signed in with the account's password.\n\n"
            "If you did not do it, someone else knows your password: sign in, change it and "
            "end your other sessions; if you cannot sign in, ask the service's operators.\n"
        ),
    )


RENDERERS = {
    RESET: render_reset,
    VERIFY_EMAIL: render_verification,
    ADDRESS_REPLACED: render_address_replaced,
}
