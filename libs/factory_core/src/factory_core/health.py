"""Liveness and readiness probes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import Flask, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from factory_core.mongo import mongo

blp = Blueprint("health", __name__, description="Liveness and readiness probes.")

DETAILS_KEY = "factory_core.readiness_details"


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    checks = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), metadata={"example": {"mongo": "ok"}}
    )


@blp.route("/livez")
class Liveness(MethodView):
    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, Any]:
        """The process is up (never touches the database)"""
        return {"status": "ok", "checks": {}}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self) -> dict[str, Any]:
        """The service can serve traffic: the database answers a ping"""
        # Within a budget of its own, well below a probe's timeout, however the database
        # fails (down, or hanging): a failed or late ping is a 503 problem with Retry-After.
        mongo.ping(timeout=float(current_app.config["READINESS_TIMEOUT_SECONDS"]))
        checks = {"mongo": "ok"}
        for name, describe in current_app.extensions.get(DETAILS_KEY, {}).items():
            try:
                checks[name] = describe()
            except Exception:  # a detail never fails readiness
                checks[name] = "unknown"
        return {"status": "ok", "checks": checks}


def add_readiness_detail(app: Flask, name: str, describe: Callable[[], str]) -> None:
    """Show ``describe()`` in /readyz's checks as ``name``; it never fails readiness."""
    app.extensions.setdefault(DETAILS_KEY, {})[name] = describe
