"""Administration of accounts: list them, disable one (admins only)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint

from auth_service.repositories import UserRepository
from auth_service.repositories.users import parse_user_id
from auth_service.routes.access import BEARER, admin_required, fail
from auth_service.schemas import AdminUserSchema
from auth_service.tokens import revoke_subject
from factory_core import mongo

blp = Blueprint(
    "users", __name__, url_prefix="/auth/users", description="Account administration (admins)."
)

Document = dict[str, Any]


@blp.route("")
class Users(MethodView):
    @jwt_required()
    @admin_required
    @blp.doc(security=BEARER)
    @blp.response(200, AdminUserSchema(many=True))
    @blp.paginate(max_page_size=100)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self, pagination_parameters: Any) -> list[Document]:
        """List accounts, oldest first (paginated; X-Pagination header)"""
        users = UserRepository(mongo.db)
        pagination_parameters.item_count = users.count()
        return users.list_page(
            skip=pagination_parameters.first_item, limit=pagination_parameters.page_size
        )


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
        object_id = parse_user_id(user_id)
        users = UserRepository(mongo.db)
        if object_id is None or users.find_by_id(user_id=user_id) is None:
            fail(404, "No such user.", code="not_found")
        not_before = revoke_subject(object_id)
        user = users.disable(user_id=object_id, tokens_not_before=not_before)
        if user is None:
            fail(404, "No such user.", code="not_found")
        return user
