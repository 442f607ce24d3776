"""flask-smorest's Api, with the problem-details shape for errors and a bearer security scheme."""

from __future__ import annotations

import functools
import http
from collections.abc import Callable
from typing import Any, TypeVar, cast

import flask_smorest
from apispec import BasePlugin
from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from factory_core.trust.tokens import verify_bearer
from factory_core.web.errors import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    ProblemSchema,
    handle_http_exception,
)
from factory_core.web.pagination import PAGE_METADATA_HEADER

BEARER_SCHEME = "bearerAuth"

View = TypeVar("View", bound=Callable[..., Any])

_BODY_METHODS = ("post", "put", "patch")


class _CoreResponsesPlugin(BasePlugin):
    """Document errors as factory_core answers them (docs/architecture.md#error-format), with
    apispec's plugin hooks; ``query_names`` records the query arguments each operation takes."""

    def response_helper(self, response: dict[str, Any], **_: Any) -> dict[str, Any] | None:
        body = response.get("content", {}).get("application/json")
        if body is not None and _is_problem(body.get("schema")):
            return {"content": {PROBLEM_CONTENT_TYPE: body}}
        return None

    def __init__(self) -> None:
        #: (endpoint, METHOD) -> the query arguments the operation's spec names.
        self.query_names: dict[tuple[str, str], frozenset[str]] = {}

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        rule: Rule | None = None,
        **_: Any,
    ) -> None:
        for method, operation in (operations or {}).items():
            parameters = operation.get("parameters", [])
            if rule is not None:
                self.query_names[(rule.endpoint, method.upper())] = frozenset(
                    p["name"] for p in parameters if isinstance(p, dict) and p.get("in") == "query"
                )
            reads_body = "requestBody" in operation
            codes = [422]
            if method in _BODY_METHODS or reads_body:
                codes += [413, 415] + ([400] if reads_body else [])
            responses = operation.setdefault("responses", {})
            for code in codes:
                if str(code) not in responses and code not in responses:
                    # flask-smorest names response components after http.HTTPStatus members.
                    responses[str(code)] = http.HTTPStatus(code).name

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
        self._responses = _CoreResponsesPlugin()
        super().__init__(app, spec_kwargs={"extra_plugins": [self._responses]})

    def init_app(self, app: Flask, *args: Any, **kwargs: Any) -> None:
        super().init_app(app, *args, **kwargs)
        app.extensions[QUERY_NAMES_KEY] = self._responses.query_names
        app.before_request(_refuse_undocumented_query_of_public_views)

    def handle_http_exception(self, error: HTTPException) -> Response:
        """Every HTTP error as a problem document (flask-smorest's documented override)."""
        return handle_http_exception(error)

    def register_core_components(self) -> None:
        """Declare the JWT bearer scheme (Swagger UI's Authorize button) and page headers."""
        self.spec.components.security_scheme(
            BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        )
        # X-Pagination is JSON text. An object schema would serialize as "k,v,k,v" (OpenAPI's
        # simple style); a header with `content` would be exact, but some tools (oasdiff)
        # cannot read one. So: a string holding JSON.
        self.spec.components.header(
            PAGE_METADATA_HEADER,
            {
                "description": "Pagination metadata as a JSON object: total, total_pages, "
                "first_page, last_page, page, previous_page and next_page (the last two only "
                "when such a page exists). Sent only where the total costs O(1) (a kept "
                "counter: the operation says which), and with the deprecated page number.",
                "schema": {
                    "type": "string",
                    "example": '{"total": 42, "total_pages": 3, "first_page": 1, '
                    '"last_page": 3, "page": 2, "previous_page": 1, "next_page": 3}',
                },
            },
        )


def _is_problem(schema: Any) -> bool:
    if isinstance(schema, dict):
        return str(schema.get("$ref", "")).endswith("/Problem")
    return schema is ProblemSchema or isinstance(schema, ProblemSchema)


QUERY_NAMES_KEY = "factory_core.query_names"
#: Set on a view that ``authenticated`` guards: its query is checked after its token.
_AFTER_AUTH = "factory_core_checks_query_after_auth"


def refuse_undocumented_query() -> None:
    """422 for a query argument the operation's spec does not name (its view may read no
    query at all), with the errors webargs gives; nothing for routes outside the spec."""
    if not request.environ.get("QUERY_STRING") or request.url_rule is None:
        return
    known: dict[tuple[str, str], frozenset[str]] = current_app.extensions[QUERY_NAMES_KEY]
    method = "GET" if request.method == "HEAD" else request.method
    names = known.get((request.url_rule.endpoint, method))
    if names is None:  # not an operation of the spec: /metrics, /docs, /openapi.json
        return
    unknown = sorted(set(request.args) - names)
    if unknown:
        raise Problem(
            422,
            "The request has invalid fields; see errors.",
            code="unprocessable_content",
            errors={"query": {name: ["Unknown field."] for name in unknown}},
        )


def _refuse_undocumented_query_of_public_views() -> None:
    # An authenticated view checks its query after its token (401 before anything else).
    if request.environ.get("QUERY_STRING") and not getattr(_view(), _AFTER_AUTH, False):
        refuse_undocumented_query()


def _view() -> Any:
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)  # a MethodView's method, else the view
    return getattr(view_class, request.method.lower(), view) if view_class else view


def authenticated(
    blp: flask_smorest.Blueprint, *, fresh: bool = False, refresh: bool = False
) -> Callable[[View], View]:
    """Require a valid bearer token (``fresh``: from a login; ``refresh``: a refresh token) before
    anything else the view does, and document the scheme, 401 and 503 on its operation."""

    def decorate(view: View) -> View:
        documented = blp.alt_response(503, response="SERVICE_UNAVAILABLE")(
            blp.alt_response(401, response="UNAUTHORIZED")(
                blp.doc(security=[{BEARER_SCHEME: []}])(view)
            )
        )

        @functools.wraps(documented)
        def gated(*args: Any, **kwargs: Any) -> Any:
            verify_bearer(fresh=fresh, refresh=refresh)
            refuse_undocumented_query()
            return documented(*args, **kwargs)

        setattr(gated, _AFTER_AUTH, True)
        return cast(View, gated)

    return decorate
