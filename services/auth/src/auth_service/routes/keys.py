"""The public keys that verify this service's tokens (JWKS), for every service."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from auth_service.schemas import JWKSetSchema
from auth_service.tokens import key_ring
from factory_core import Document

blp = Blueprint("keys", __name__, description="Public keys, for services.")


@blp.route("/.well-known/jwks.json")
class JWKS(MethodView):
    @blp.response(200, JWKSetSchema())
    @blp.doc(operationId="getJwks")
    def get(self) -> tuple[Document, int, dict[str, str]]:
        """The public keys that verify this service's tokens (JWK Set, RFC 7517)"""
        # Short caching: a new signing key must reach consumers soon after rotation.
        return key_ring().jwks(), 200, {"Cache-Control": "public, max-age=60"}
