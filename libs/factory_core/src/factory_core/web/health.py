"""Liveness and readiness probes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import Flask, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from factory_core.data.mongo import mongo
from factory_core.web.errors import Problem

blp = Blueprint("health", __name__, description="Liveness and readiness probes.")

CHECKS_KEY = "factory_core.readiness_checks"


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    checks = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), metadata={"example": {"mongo": "ok"}}
    )


@blp.route("/livez")
class Liveness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(operationId="getLiveness")
    def get(self) -> dict[str, Any]:
        """The process is up (never touches the database)"""
        return {"status": "ok", "checks": {}}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(operationId="getReadiness")
    def get(self) -> dict[str, Any]:
        """The service can serve traffic: the database answers a ping, and every check the
        service's extensions added passes (the issuer's keys, its revocation feed)"""
        # Within a budget of its own, well below a probe's timeout, however the database
        # fails (down, or hanging): a failed or late ping is a 503 problem with Retry-After.
        mongo.ping(timeout=float(current_app.config["READINESS_TIMEOUT_SECONDS"]))
        checks = {"mongo": "ok"}
        for name, check in current_app.extensions.get(CHECKS_KEY, {}).items():
            try:
                checks[name] = check()
            except Problem:  # this worker cannot serve: not ready (503, the check's problem)
                raise
            except Exception:  # a check that cannot answer says so, and fails nothing
                checks[name] = "unknown"
        return {"status": "ok", "checks": checks}


def add_readiness_check(app: Flask, name: str, check: Callable[[], str]) -> None:
    """Show ``check()`` in /readyz's checks as ``name``; a 503 Problem it raises makes the
    instance not ready (a check that only informs never raises one)."""
    app.extensions.setdefault(CHECKS_KEY, {})[name] = check
