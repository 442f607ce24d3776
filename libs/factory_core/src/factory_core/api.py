"""flask-smorest's Api, with the problem-details shape for errors and a bearer security scheme."""

from __future__ import annotations

import http
from typing import Any

import flask_smorest
from flask import Response
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from factory_core.errors import PROBLEM_CONTENT_TYPE, ProblemSchema, handle_http_exception

BEARER_SCHEME = "bearerAuth"


class Api(flask_smorest.Api):
    """An Api whose errors are RFC 9457 problems, in responses and in the spec."""

    ERROR_SCHEMA = ProblemSchema

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

    def register_bearer_scheme(self) -> None:
        """Declare the JWT bearer scheme, so Swagger UI's Authorize button works."""
        self.spec.components.security_scheme(
            BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        )
