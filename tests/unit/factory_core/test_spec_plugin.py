"""The core's spec plugin records what each operation reads (web.http.Reads) from any spec."""

from __future__ import annotations

from werkzeug.routing import Rule

from factory_core.web.api import _CoreResponsesPlugin
from factory_core.web.http import Reads


def test_parameters_named_by_component_and_by_content_are_taken() -> None:
    # flask-smorest's @blp.etag adds its headers by component name (a string) before apispec
    # resolves them; a parameter may give `content` instead of `schema` (the review found
    # both made app creation fail).
    plugin = _CoreResponsesPlugin()
    operation = {
        "operationId": "listThings",
        "parameters": [
            "IF_NONE_MATCH",
            {"in": "query", "name": "tag", "schema": {"type": "array"}},
            {"in": "query", "name": "ids", "schema": {"type": "array"}, "explode": False},
            {"in": "query", "name": "filter", "content": {"application/json": {}}},
        ],
        "responses": {},
    }
    plugin.operation_helper(
        path="/things", operations={"get": operation}, rule=Rule("/things", endpoint="things")
    )
    assert plugin.operations[("things", "GET")] == Reads(
        query=frozenset({"tag", "ids", "filter"}), lists=frozenset({"tag"}), body=None
    )
