"""Account recovery: password reset by mail, and the e-mail verification link."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask.views import MethodView
from flask_smorest import Blueprint

from auth_service import recovery
from auth_service.origin import client_address
from auth_service.ratelimit import rate_limits
from auth_service.routes.access import NO_STORE, NO_STORE_HEADERS
from auth_service.schemas import (
    AcceptedSchema,
    EmailVerifiedSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    ResetTokenStatusSchema,
    TokenQuerySchema,
)
from factory_core import Document

blp = Blueprint(
    "recovery",
    __name__,
    url_prefix="/auth",
    description="Password reset and e-mail verification, by links sent by mail.",
)

View = TypeVar("View", bound=Callable[..., Any])

#: The one answer to every reset request, whether an account matched or not.
RESET_ACCEPTED = {
    "detail": "If an account with a verified e-mail address matches, a link to reset its "
    "password is on its way there."
}


def _spends_a_link_token(view: View) -> View:
    """An operation on a mailed link's token: 404 while recovery is off, limited per address
    (RECOVERY_TOKEN_RATE_LIMIT_PER_ADDRESS), and the answers that come with that."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        recovery.enabled()
        rate_limits.hit("recovery_token", address=client_address())
        return view(*args, **kwargs)

    documented = guarded
    for status, response in (
        (400, "BAD_REQUEST"),
        (404, "NOT_FOUND"),
        (429, "TOO_MANY_REQUESTS"),
        (503, "SERVICE_UNAVAILABLE"),
    ):
        documented = blp.alt_response(status, response=response)(documented)
    return documented  # type: ignore[return-value]


@blp.route("/password-reset")
class PasswordResetRequest(MethodView):
    @blp.arguments(PasswordResetRequestSchema())
    @blp.response(202, AcceptedSchema())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(operationId="requestPasswordReset")
    def post(self, data: Document) -> Document:
        """Ask for a reset link: the same answer, and the same work, for any identifier"""
        recovery.enabled()
        rate_limits.hit("password_reset", address=client_address())
        recovery.request_reset(data["identifier"].strip())
        return RESET_ACCEPTED


@blp.route("/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    @blp.arguments(TokenQuerySchema(), location="query")
    @blp.response(200, ResetTokenStatusSchema(), headers=NO_STORE_HEADERS)
    @_spends_a_link_token
    @blp.doc(operationId="checkPasswordResetToken")
    def get(self, query: Document) -> tuple[Document, int, dict[str, str]]:
        """Check a reset link before asking for the new password (it stays usable)"""
        return recovery.check_reset_token(query["token"]), 200, NO_STORE

    @blp.arguments(PasswordResetSchema())
    @blp.response(204)
    @_spends_a_link_token
    @blp.doc(operationId="confirmPasswordReset")
    def post(self, data: Document) -> None:
        """Set a new password with a reset link's token; signs out every session"""
        recovery.reset_password(data["token"], data["new_password"])


@blp.route("/email/verify")
class EmailVerification(MethodView):
    @blp.arguments(TokenQuerySchema(), location="query")
    @blp.response(200, EmailVerifiedSchema(), headers=NO_STORE_HEADERS)
    @_spends_a_link_token
    @blp.doc(operationId="verifyEmail")
    def get(self, query: Document) -> tuple[Document, int, dict[str, str]]:
        """Confirm an e-mail address: the link of the verification mail"""
        return recovery.verify_email(query["token"]), 200, NO_STORE
