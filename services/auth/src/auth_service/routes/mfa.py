"""Two-factor sign-in: enrol an authenticator, confirm it, turn it off; finish a login."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from auth_service import mfa, security_log
from auth_service.repositories import users
from auth_service.routes.access import NO_STORE, NO_STORE_HEADERS
from auth_service.routes.me import check_password
from auth_service.schemas import (
    MfaConfirmSchema,
    MfaDisableSchema,
    MfaEnrolmentSchema,
    MfaLoginSchema,
    RecoveryCodesSchema,
    TokenPairSchema,
)
from auth_service.sessions import start_session
from factory_core import Document, Problem, authenticated, current_account, mongo

blp = Blueprint("mfa", __name__, url_prefix="/auth", description="Two-factor sign-in (TOTP).")

TokenAnswer = tuple[Document, int, dict[str, str]]


@blp.route("/me/mfa/totp")
class TotpEnrolment(MethodView):
    @authenticated(blp, fresh=True)
    @blp.response(201, MfaEnrolmentSchema(), headers=NO_STORE_HEADERS)
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="enrolTotp")
    def post(self) -> TokenAnswer:
        """Start two-factor sign-in: a new secret for an authenticator app (needs a fresh
        token), pending until its first code confirms it"""
        return mfa.enrol(current_account()), 201, NO_STORE


@blp.route("/me/mfa/totp/confirm")
class TotpConfirmation(MethodView):
    @authenticated(blp, fresh=True)
    @blp.arguments(MfaConfirmSchema())
    @blp.response(200, RecoveryCodesSchema(), headers=NO_STORE_HEADERS)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.doc(operationId="confirmTotp")
    def post(self, data: Document) -> TokenAnswer:
        """Turn two-factor sign-in on with the authenticator's first code; the ten recovery
        codes, shown this once"""
        codes = mfa.confirm(current_account(), data["code"])
        return {"recovery_codes": codes}, 200, NO_STORE


@blp.route("/me/mfa")
class Mfa(MethodView):
    @authenticated(blp, fresh=True)
    @blp.arguments(MfaDisableSchema())
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.doc(operationId="disableMfa")
    def delete(self, data: Document) -> None:
        """Turn two-factor sign-in off (needs a fresh token, the password and a code)"""
        user: Document = current_account()
        if not user.get("mfa"):
            raise Problem(409, "Two-factor sign-in is off.", code="mfa_not_enabled")
        check_password(user, data["password"])
        mfa.limit_attempts(user)

        def turn_off() -> None:
            mfa.check_second_factor(user, data["code"])
            users.disable_mfa(user_id=user["_id"])
            security_log.record(str(user["_id"]), security_log.MFA_DISABLED)

        mongo.transaction(turn_off)


@blp.route("/login/mfa")
class MfaLogin(MethodView):
    @blp.arguments(MfaLoginSchema())
    @blp.response(200, TokenPairSchema(), headers=NO_STORE_HEADERS)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(operationId="loginWithCode", security=[])
    def post(self, data: Document) -> TokenAnswer:
        """Finish a login that asked for a second factor: its challenge and a code (or a
        recovery code) for an access and a refresh token"""
        user = mfa.challenged_user(data["challenge"])
        mfa.limit_attempts(user)
        try:
            mongo.transaction(lambda: mfa.check_second_factor(user, data["code"]))
        except Problem:
            security_log.record(str(user["_id"]), security_log.SIGN_IN_FAILED, reason="wrong_code")
            raise
        return start_session(user, amr=mfa.WITH_CODE), 200, NO_STORE
