"""The signed-in account: read, update, delete, change the password, see and end sessions,
read the security log."""

from __future__ import annotations

from typing import Any, NoReturn

from flask.views import MethodView
from flask_smorest import Blueprint

from auth_service import recovery, security_log
from auth_service.account_events import delete_account
from auth_service.passwords import passwords
from auth_service.ratelimit import rate_limits
from auth_service.repositories import security_events, sessions, users
from auth_service.repositories.security_events import ORDER as SECURITY_EVENT_ORDER
from auth_service.repositories.sessions import ORDER as SESSION_ORDER
from auth_service.schemas import (
    AcceptedSchema,
    AccountDeletionSchema,
    PasswordChangeSchema,
    SecurityEventSchema,
    SessionSchema,
    UserSchema,
    UserUpdateSchema,
)
from auth_service.sessions import end_sessions
from factory_core import (
    PAGE_HEADERS,
    Document,
    PageArgsSchema,
    Problem,
    authenticated,
    current_account,
    current_claims,
    current_subject,
    mongo,
    page_of,
    requested_page,
)

blp = Blueprint("me", __name__, url_prefix="/auth/me", description="The signed-in account.")


@blp.route("")
class Me(MethodView):
    @authenticated(blp)
    @blp.response(200, UserSchema())
    @blp.doc(operationId="getMe")
    def get(self) -> Document:
        """Read the signed-in account"""
        user: Document = current_account()
        return user

    @authenticated(blp, fresh=True)
    @blp.arguments(UserUpdateSchema())
    @blp.response(200, UserSchema())
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.doc(operationId="updateMe")
    def patch(self, data: Document) -> Document:
        """Change the account's email address (null removes it; needs a fresh token and the
        password); a new one gets a verification link"""
        user: Document = current_account()
        check_password(user, data["password"])
        email = data["email"]
        if email == user.get("email"):
            return user  # nothing changes, nothing is mailed
        mails = recovery.wants_verification({**user, "email": email, "email_verified_at": None})
        if mails:
            recovery.spend_mail_budget(user["_id"])  # 429 before anything changes

        def change() -> Document | None:
            changed = users.update_email(user_id=user["_id"], email=email)
            if changed is not None:
                recovery.tell_replaced_address(user)
                security_log.record(
                    str(user["_id"]), security_log.EMAIL_CHANGED, session=current_claims()["fid"]
                )
            return changed

        changed = mongo.transaction(change)
        if changed is None:  # the same address meanwhile, or the account deleted since
            return users.find_by_id(user_id=str(user["_id"])) or _gone()
        if mails:
            recovery.mail_verification(changed)
        return changed

    @authenticated(blp, fresh=True)
    @blp.arguments(AccountDeletionSchema())
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.doc(operationId="deleteMe")
    def delete(self, data: Document) -> None:
        """Delete the account (needs a fresh token and the password); revokes every token"""
        user: Document = current_account()
        check_password(user, data["password"])
        delete_account(user)  # tokens revoked first; account.deleted published, never lost


@blp.route("/email/verification")
class MyEmailVerification(MethodView):
    @authenticated(blp)
    @blp.response(202, AcceptedSchema())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(operationId="requestEmailVerification")
    def post(self) -> Document:
        """Send the verification link again (the earlier links stop working)"""
        recovery.enabled()
        user: Document = current_account()
        if not user.get("email"):
            raise Problem(409, "The account has no e-mail address.", code="no_email")
        if user.get("email_verified_at"):
            raise Problem(409, "The address is already verified.", code="already_verified")
        recovery.request_verification(user)
        return {"detail": f"A verification link is on its way to {user['email']}."}


@blp.route("/password")
class MyPassword(MethodView):
    @authenticated(blp, fresh=True)
    @blp.arguments(PasswordChangeSchema())
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.doc(operationId="changePassword")
    def post(self, data: Document) -> None:
        """Change the password (needs a fresh token from a login); signs out every session"""
        user: Document = current_account()
        check_password(user, data["current_password"])
        new_hash = passwords.hash(data["new_password"])
        session = current_claims()["fid"]
        kind = security_log.PASSWORD_CHANGED
        if not security_log.replace_password(user, new_hash, kind=kind, session=session):
            raise Problem(
                409,
                "The password was changed meanwhile (a reset, another session). Log in again.",
                code="password_changed_meanwhile",
            )


@blp.route("/sessions")
class MySessions(MethodView):
    @authenticated(blp)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, SessionSchema(many=True), headers=PAGE_HEADERS)
    @blp.alt_response(400, response="BAD_REQUEST")  # a cursor not valid for this list
    @blp.doc(operationId="listMySessions")
    def get(self, args: Document) -> tuple[list[Document], dict[str, str]]:
        """List the account's signed-in sessions, newest first, one page at a time"""
        return list_sessions(current_subject(), args)

    @authenticated(blp)
    @blp.response(204)
    @blp.doc(operationId="endMyOtherSessions")
    def delete(self) -> None:
        """End every session of the account but this one"""
        user_id, current = current_subject(), current_claims()["fid"]
        others = [each for each in sessions.live_ids(user_id=user_id) if each != current]
        mongo.transaction(lambda: end_sessions(user_id, others, reason="ended"))


@blp.route("/sessions/<session_id>")
class MySession(MethodView):
    @authenticated(blp)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="endMySession")
    def delete(self, session_id: str) -> None:
        """End one session: its tokens stop working here, and at every service within its
        revocation bound"""
        end_session(current_subject(), session_id)


@blp.route("/security-events")
class MySecurityEvents(MethodView):
    @authenticated(blp)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, SecurityEventSchema(many=True), headers=PAGE_HEADERS)
    @blp.alt_response(400, response="BAD_REQUEST")  # a cursor not valid for this list
    @blp.doc(operationId="listMySecurityEvents")
    def get(self, args: Document) -> tuple[list[Document], dict[str, str]]:
        """List the account's security log (sign-ins, sessions ended, password and address
        changes...), newest first, one page at a time"""
        return list_security_events(current_subject(), args)


def list_security_events(
    user_id: str, args: dict[str, Any]
) -> tuple[list[Document], dict[str, str]]:
    """A page of ``user_id``'s security log."""
    page = requested_page(args, SECURITY_EVENT_ORDER)
    return page_of(security_events.list_page(user_id=user_id, page=page), page)


def list_sessions(user_id: str, args: dict[str, Any]) -> tuple[list[Document], dict[str, str]]:
    """A page of ``user_id``'s live sessions, the caller's marked ``current``."""
    page = requested_page(args, SESSION_ORDER)
    found, headers = page_of(sessions.list_page(user_id=user_id, page=page), page)
    current = current_claims()["fid"]
    return [{**each, "current": each["_id"] == current} for each in found], headers


def end_session(user_id: str, session_id: str, *, by_admin: bool = False) -> None:
    """End ``user_id``'s live session ``session_id``; 404 if it has none such."""
    if sessions.find_live(user_id=user_id, session_id=session_id) is None:
        raise Problem(404, "No such session.", code="session_not_found")
    mongo.transaction(
        lambda: end_sessions(user_id, [session_id], reason="ended", by_admin=by_admin)
    )


def _gone() -> NoReturn:
    raise Problem(404, "The account no longer exists.", code="user_not_found")


def check_password(user: Document, password: str) -> None:
    """403 unless ``password`` is the account's; limited per session (token family).

    A stolen fresh token must not allow guessing the password at full speed; counting per
    session (not per account) means it cannot lock the owner's own sessions out either.
    """
    rate_limits.hit("password_check", session=current_claims()["fid"])
    if not passwords.verify(user["password_hash"], password):
        raise Problem(403, "The password is wrong.", code="wrong_password")
