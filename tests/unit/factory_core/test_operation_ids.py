"""Every operation of a spec has an operationId, unique in it: the core refuses to build one
without (generated clients name their methods after it)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint

from factory_core import Api, Settings


def _api() -> Api:
    app = Flask(__name__)
    app.config.from_object(Settings)
    api = Api(app)
    api.register_core_components()
    return api


def _blueprint(*operation_ids: str | None) -> Blueprint:
    blp = Blueprint("things", __name__, url_prefix="/things")
    for number, operation_id in enumerate(operation_ids):

        class Thing(MethodView):
            def get(self) -> dict[str, Any]:
                """Read a thing"""
                return {}

        if operation_id is not None:
            Thing.get = blp.doc(operationId=operation_id)(Thing.get)  # type: ignore[method-assign]
        blp.route(f"/{number}", endpoint=f"thing{number}")(Thing)
    return blp


def test_named_operations_are_published_with_their_ids() -> None:
    api = _api()
    api.register_blueprint(_blueprint("getThing", "getOtherThing"))
    paths = api.spec.to_dict()["paths"]
    assert paths["/things/0"]["get"]["operationId"] == "getThing"
    assert paths["/things/1"]["get"]["operationId"] == "getOtherThing"
    # Not guarded by authenticated(): public, and said so (the root security asks for a token).
    assert paths["/things/0"]["get"]["security"] == []


def test_an_operation_without_an_id_is_refused() -> None:
    with pytest.raises(ValueError, match=r"GET things\.thing0 has no operationId"):
        _api().register_blueprint(_blueprint(None))


def test_two_operations_with_one_id_are_refused() -> None:
    with pytest.raises(ValueError, match="operationId 'getThing'"):
        _api().register_blueprint(_blueprint("getThing", "getThing"))
