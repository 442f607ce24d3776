"""Administration of accounts: list them, disable one (admins only)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint

from auth_service.repositories import UserRepository
from auth_service.routes.access import BEARER, admin_required, fail
from auth_service.schemas import AdminUserSchema
from auth_service.tokens import revoke_all
from factory_core import PAGE_HEADERS, PageArgsSchema, mongo, pagination_headers

blp = Blueprint(
    "users", __name__, url_prefix="/auth/users", description="Account administration (admins)."
)

Document = dict[str, Any]


@blp.route("")
class Users(MethodView):
    @jwt_required()
    @admin_required
    @blp.doc(security=BEARER)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, AdminUserSchema(many=True), headers=PAGE_HEADERS)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self, args: Document) -> tuple[list[Document], dict[str, str]]:
        """List accounts, oldest first, one page at a time"""
        page, page_size = args["page"], args["page_size"]
        users = UserRepository(mongo.db)
        total = users.count()
        skip = (page - 1) * page_size
        found = users.list_page(skip=skip, limit=page_size) if skip < total else []
        return found, pagination_headers(page=page, page_size=page_size, total=total)


@blp.route("/<user_id>/disable")
class UserDisable(MethodView):
    @jwt_required()
    @admin_required
    @blp.doc(security=BEARER)
    @blp.response(200, AdminUserSchema())
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, user_id: str) -> Document:
        """Disable an account: it cannot log in and its tokens stop working"""
        users = UserRepository(mongo.db)
        user = users.find_by_id(user_id=user_id)
        if user is None:
            fail(404, "No such user.", code="not_found")
        disabled = users.disable(user_id=user["_id"], token_version=revoke_all(user))
        if disabled is None:  # deleted meanwhile
            fail(404, "No such user.", code="not_found")
        return disabled
