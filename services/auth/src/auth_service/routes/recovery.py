"""Account recovery: password reset by mail, and the e-mail verification link."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from auth_service import recovery
from auth_service.ratelimit import rate_limits
from auth_service.repositories.users import email_key, username_key
from auth_service.routes.access import NO_STORE, client_address
from auth_service.schemas import (
    AcceptedSchema,
    EmailVerifiedSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    ResetTokenStatusSchema,
    TokenQuerySchema,
)

blp = Blueprint(
    "recovery",
    __name__,
    url_prefix="/auth",
    description="Password reset and e-mail verification, by links sent by mail.",
)

Document = dict[str, Any]

#: The one answer to every reset request, whether an account matched or not.
RESET_ACCEPTED = {
    "detail": "If an account with a verified e-mail address matches, a link to reset its "
    "password is on its way there."
}


def _account_key(identifier: str) -> str:
    return f"email:{email_key(identifier)}" if "@" in identifier else username_key(identifier)


@blp.route("/password-reset")
class PasswordResetRequest(MethodView):
    @blp.arguments(PasswordResetRequestSchema())
    @blp.response(202, AcceptedSchema())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, data: Document) -> Document:
        """Ask for a reset link: the same answer, and the same work, for any identifier"""
        recovery.enabled()
        identifier = data["identifier"].strip()
        rate_limits.hit(
            "password_reset", address=client_address(), account=_account_key(identifier)
        )
        recovery.request_reset(identifier)
        return RESET_ACCEPTED


@blp.route("/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    @blp.arguments(TokenQuerySchema(), location="query")
    @blp.response(200, ResetTokenStatusSchema())
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self, query: Document) -> tuple[Document, int, dict[str, str]]:
        """Check a reset link before asking for the new password (it stays usable)"""
        recovery.enabled()
        rate_limits.hit("recovery_token", address=client_address())
        return recovery.check_reset_token(query["token"]), 200, NO_STORE

    @blp.arguments(PasswordResetSchema())
    @blp.response(204)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, data: Document) -> None:
        """Set a new password with a reset link's token; signs out every session"""
        recovery.enabled()
        rate_limits.hit("recovery_token", address=client_address())
        recovery.reset_password(data["token"], data["new_password"])


@blp.route("/email/verify")
class EmailVerification(MethodView):
    @blp.arguments(TokenQuerySchema(), location="query")
    @blp.response(200, EmailVerifiedSchema())
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self, query: Document) -> tuple[Document, int, dict[str, str]]:
        """Confirm an e-mail address: the link of the verification mail"""
        recovery.enabled()
        rate_limits.hit("recovery_token", address=client_address())
        return recovery.verify_email(query["token"]), 200, NO_STORE
