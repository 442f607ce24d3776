"""A small service built only from factory_core, to test the core in isolation."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt
import marshmallow as ma
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint
from pymongo.errors import OperationFailure, WriteConcernError

from factory_core import (
    Api,
    Settings,
    StaticKeys,
    authenticated,
    build_app,
    configure_bearer,
    current_subject,
    mongo,
)

KID = "test-key-1"
PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())

blp = Blueprint("items", __name__, url_prefix="/items")


class ItemSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20))
    count = ma.fields.Integer(load_default=1)


@blp.route("")
class Items(MethodView):
    @blp.arguments(ItemSchema)
    @blp.response(201, ItemSchema)
    @blp.doc(operationId="createItem")
    def post(self, item: dict[str, Any]) -> dict[str, Any]:
        """Store an item"""
        mongo.db.items.insert_one(dict(item))
        return item


@blp.route("/boom")
class Boom(MethodView):
    @blp.doc(operationId="boom")
    def get(self) -> None:
        """Fail on purpose"""
        raise RuntimeError("secret internal detail")


@blp.route("/database-refuses/<int:code>")
class DatabaseRefuses(MethodView):
    @blp.doc(operationId="databaseRefuses")
    def get(self, code: int) -> None:
        """Fail as pymongo does when the server answers with error ``code``"""
        if code == 64:
            raise WriteConcernError("waiting for replication timed out", code)
        raise OperationFailure(f"server error {code}", code)


@blp.route("/mine")
class Mine(MethodView):
    @authenticated(blp)
    @blp.doc(operationId="getMine")
    def get(self) -> dict[str, Any]:
        """Who am I"""
        return {"sub": current_subject()}


@blp.route("/mine/secret")
class MySecret(MethodView):
    @authenticated(blp, mfa=True)
    @blp.doc(operationId="getMySecret")
    def get(self) -> dict[str, Any]:
        """Something only a sign-in with a second factor may read"""
        return {"sub": current_subject()}


@blp.route("/renew")
class Renew(MethodView):
    @authenticated(blp, refresh=True)
    @blp.doc(operationId="renew")
    def post(self) -> dict[str, Any]:
        """Use a refresh token (once, as auth's rotation does)"""
        return {"sub": current_subject()}


class SampleSettings(Settings):
    SERVICE_NAME = "sample"
    API_TITLE = "Sample API"


def _setup(app: Flask, _api: Api) -> None:
    configure_bearer(app, StaticKeys({KID: PRIVATE_KEY.public_key()}))


def create_sample(config: Mapping[str, Any] | None = None) -> Flask:
    return build_app(
        __name__,
        settings=SampleSettings,
        env_prefix="SAMPLE",
        blueprints=[blp],
        overrides=config,
        setup=_setup,
        migrations="tests.support.sample_migrations",
    )


def make_token(
    *,
    key: Any = PRIVATE_KEY,
    algorithm: str = "ES256",
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "iss": "auth-service",
        "aud": "flask-factory",
        "sub": "user-1",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": f"jti-{now}",
        "type": "access",
        "fresh": False,
    }
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": KID, **(headers or {})})
