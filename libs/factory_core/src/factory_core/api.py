"""flask-smorest's Api, with the problem-details shape for errors and a bearer security scheme."""

from __future__ import annotations

import http
from typing import Any

import flask_smorest
from apispec import BasePlugin
from flask import Flask, Response
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from factory_core.errors import PROBLEM_CONTENT_TYPE, ProblemSchema, handle_http_exception

BEARER_SCHEME = "bearerAuth"

_BODY_METHODS = ("post", "put", "patch")


def _status(code: int) -> str:
    # flask-smorest names response components after http.HTTPStatus members.
    return http.HTTPStatus(code).name


class _CoreResponsesPlugin(BasePlugin):
    """Document in every operation the errors factory_core itself can answer.

    Any POST/PUT/PATCH, and any operation that reads a body, may get 413 (body too large) and
    415 (a body that is not JSON), and one that reads a JSON body also 400 (malformed JSON),
    whatever the view does. A marshmallow
    schema may add JSON Schema keywords of its own with ``class Meta: json_schema = {...}``
    (e.g. ``minProperties``), for rules that span fields.
    """

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            reads_body = "requestBody" in operation
            if method not in _BODY_METHODS and not reads_body:
                continue
            responses = operation.setdefault("responses", {})
            codes = [413, 415] + ([400] if reads_body else [])
            for code in codes:
                if str(code) not in responses and code not in responses:
                    responses[str(code)] = _status(code)

    def schema_helper(
        self, name: str, definition: dict[Any, Any], **kwargs: Any
    ) -> dict[Any, Any] | None:
        schema = kwargs.get("schema")
        meta = getattr(schema, "Meta", None)
        extra: dict[str, Any] | None = getattr(meta, "json_schema", None)
        return dict(extra) if extra else None


class Api(flask_smorest.Api):
    """An Api whose errors are RFC 9457 problems, in responses and in the spec."""

    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app: Flask | None = None) -> None:
        super().__init__(app, spec_kwargs={"extra_plugins": [_CoreResponsesPlugin()]})

    def handle_http_exception(self, error: HTTPException) -> Response:
        return handle_http_exception(error)

    def _register_responses(self) -> None:
        # Same as flask-smorest, but errors are documented as application/problem+json.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_pagination_header(self) -> None:
        # The services send X-Pagination as JSON text. flask-smorest documents an object schema,
        # which OpenAPI serializes as "k,v,k,v" (simple style); a header with `content` would
        # be exact but some tools (oasdiff) cannot read one. So: a string holding JSON.
        self.spec.components.header(
            "PAGINATION",
            {
                "description": "Pagination metadata as a JSON object: total, total_pages, "
                "first_page, last_page, page, previous_page and next_page (the last two only "
                "when such a page exists).",
                "schema": {
                    "type": "string",
                    "example": '{"total": 42, "total_pages": 3, "first_page": 1, '
                    '"last_page": 3, "page": 2, "previous_page": 1, "next_page": 3}',
                },
            },
            lazy=True,
        )

    def register_bearer_scheme(self) -> None:
        """Declare the JWT bearer scheme, so Swagger UI's Authorize button works."""
        self.spec.components.security_scheme(
            BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        )
