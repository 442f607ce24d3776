"""Administration of accounts: list them, disable one, see and end their sessions, read their
security logs (admins only)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from auth_service import security_log
from auth_service.repositories import users
from auth_service.routes.access import admin_required
from auth_service.routes.me import end_session, list_security_events, list_sessions
from auth_service.schemas import AdminUserSchema, SecurityEventSchema, SessionSchema
from auth_service.tokens import revoke_all
from factory_core import (
    PAGE_HEADERS,
    Document,
    NumberedPageArgsSchema,
    PageArgsSchema,
    Problem,
    authenticated,
    current_subject,
    mongo,
    page_of,
    requested_page,
)

#: Accounts in creation order (ObjectIds grow with time).
ORDER = [("_id", 1)]

blp = Blueprint(
    "users", __name__, url_prefix="/auth/users", description="Account administration (admins)."
)


@blp.route("")
class Users(MethodView):
    @authenticated(blp)
    @admin_required
    @blp.arguments(NumberedPageArgsSchema(), location="query")
    @blp.response(200, AdminUserSchema(many=True), headers=PAGE_HEADERS)
    @blp.alt_response(400, response="BAD_REQUEST")  # a cursor not valid for this list
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(operationId="listUsers")
    def get(self, args: Document) -> tuple[list[Document], dict[str, str]]:
        """List accounts, oldest first, one page at a time"""
        page = requested_page(args, ORDER)
        found, total = users.list_page(page=page)
        return page_of(found, page, total=total)


@blp.route("/<user_id>/disable")
class UserDisable(MethodView):
    @authenticated(blp)
    @admin_required
    @blp.response(200, AdminUserSchema())
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="disableUser")
    def post(self, user_id: str) -> Document:
        """Disable an account (not the caller's own): it cannot log in and its tokens stop
        working"""
        user = users.find_by_id(user_id=user_id)
        if user is None:
            raise Problem(404, "No such user.", code="user_not_found")
        if str(user["_id"]) == current_subject():  # nothing enables an account again
            raise Problem(
                403, "An administrator cannot disable their own account.", code="own_account"
            )

        def disable() -> Document | None:
            disabled = users.disable(user_id=user["_id"], token_version=revoke_all(user))
            if disabled is not None:
                security_log.record(str(user["_id"]), security_log.ACCOUNT_DISABLED, by_admin=True)
            return disabled

        disabled = mongo.transaction(disable)
        if disabled is None:  # deleted meanwhile
            raise Problem(404, "No such user.", code="user_not_found")
        return disabled


@blp.route("/<user_id>/sessions")
class UserSessions(MethodView):
    @authenticated(blp)
    @admin_required
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, SessionSchema(many=True), headers=PAGE_HEADERS)
    @blp.alt_response(400, response="BAD_REQUEST")  # a cursor not valid for this list
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="listUserSessions")
    def get(self, args: Document, user_id: str) -> tuple[list[Document], dict[str, str]]:
        """List an account's signed-in sessions, newest first, one page at a time"""
        return list_sessions(_existing(user_id), args)


@blp.route("/<user_id>/sessions/<session_id>")
class UserSession(MethodView):
    @authenticated(blp)
    @admin_required
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="endUserSession")
    def delete(self, user_id: str, session_id: str) -> None:
        """End one of an account's sessions"""
        end_session(_existing(user_id), session_id, by_admin=True)


@blp.route("/<user_id>/security-events")
class UserSecurityEvents(MethodView):
    @authenticated(blp)
    @admin_required
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, SecurityEventSchema(many=True), headers=PAGE_HEADERS)
    @blp.alt_response(400, response="BAD_REQUEST")  # a cursor not valid for this list
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="listUserSecurityEvents")
    def get(self, args: Document, user_id: str) -> tuple[list[Document], dict[str, str]]:
        """List an account's security log, newest first, one page at a time"""
        return list_security_events(_existing(user_id), args)


def _existing(user_id: str) -> str:
    """The id of the account ``user_id``; 404 when there is none."""
    user = users.find_by_id(user_id=user_id)
    if user is None:
        raise Problem(404, "No such user.", code="user_not_found")
    return str(user["_id"])
