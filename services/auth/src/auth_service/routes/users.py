"""Administration of accounts: list them, disable one (admins only)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from auth_service.repositories import users
from auth_service.routes.access import admin_required
from auth_service.schemas import AdminUserSchema
from auth_service.tokens import revoke_all
from factory_core import (
    PAGE_HEADERS,
    Document,
    PageArgsSchema,
    Problem,
    authenticated,
    pagination_headers,
)

blp = Blueprint(
    "users", __name__, url_prefix="/auth/users", description="Account administration (admins)."
)


@blp.route("")
class Users(MethodView):
    @authenticated(blp)
    @admin_required
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, AdminUserSchema(many=True), headers=PAGE_HEADERS)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args: Document) -> tuple[list[Document], dict[str, str]]:
        """List accounts, oldest first, one page at a time"""
        page, page_size = args["page"], args["page_size"]
        found, total = users.list_page(page=page, page_size=page_size)
        return found, pagination_headers(page=page, page_size=page_size, total=total)


@blp.route("/<user_id>/disable")
class UserDisable(MethodView):
    @authenticated(blp)
    @admin_required
    @blp.response(200, AdminUserSchema())
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, user_id: str) -> Document:
        """Disable an account: it cannot log in and its tokens stop working"""
        user = users.find_by_id(user_id=user_id)
        if user is None:
            raise Problem(404, "No such user.", code="user_not_found")
        disabled = users.disable(user_id=user["_id"], token_version=revoke_all(user))
        if disabled is None:  # deleted meanwhile
            raise Problem(404, "No such user.", code="user_not_found")
        return disabled
