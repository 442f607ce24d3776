"""flask-smorest's Api: problem-details errors, the bearer schemes, and a spec that makes good
generated clients (operation ids, declared headers, servers, license)."""

from __future__ import annotations

import functools
import http
from collections.abc import Callable
from typing import Any, TypeVar, cast

import flask_smorest
from apispec import APISpec, BasePlugin
from flask import Flask, Response, current_app, request
from flask_smorest.pagination import PaginationMetadataSchema
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from factory_core.trust.tokens import verify_bearer
from factory_core.web.errors import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    ProblemSchema,
    handle_http_exception,
)
from factory_core.web.http import OPERATIONS_KEY, Reads, current_operation
from factory_core.web.pagination import PAGE_METADATA_HEADER

#: The OpenAPI security scheme of access tokens (the name is part of the published contracts).
BEARER_SCHEME = "bearerAuth"
#: The scheme of refresh tokens: declared in a spec only when an operation takes one.
REFRESH_SCHEME = "refreshToken"
#: The same access token, obtained by logging in at the auth service's token endpoint
#: (TOKEN_URL): what lets Swagger UI's Authorize log in by itself. Every operation that takes
#: an access token takes either scheme.
PASSWORD_SCHEME = "oauth2Password"  # noqa: S105 (a scheme name, not a secret)


def _access_security() -> list[dict[str, list[str]]]:
    """An operation's security when it takes an access token (a new list: the spec's
    builders may change what they are given)."""
    return [{BEARER_SCHEME: []}, {PASSWORD_SCHEME: []}]


_SCHEMES = {
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token, from the auth service's login or refresh.",
    },
    REFRESH_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A refresh token, from login or refresh; accepted only where it is "
        "exchanged for a new token pair (an access token is refused there, and the reverse).",
    },
}
#: Header components of the error responses.
RETRY_AFTER_HEADER = "RETRY_AFTER"
WWW_AUTHENTICATE_HEADER = "WWW_AUTHENTICATE"
#: The headers each error status is sent with (flask-smorest's response components, by name).
_ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": WWW_AUTHENTICATE_HEADER},
    409: {
        "Retry-After": {
            "description": "Seconds to wait, on a conflict a retry may resolve (a concurrent "
            "request with the same Idempotency-Key or refresh token); absent when it will not.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
    429: {"Retry-After": RETRY_AFTER_HEADER},
    503: {"Retry-After": RETRY_AFTER_HEADER},
}

View = TypeVar("View", bound=Callable[..., Any])


class _CoreResponsesPlugin(BasePlugin):
    """Document errors as factory_core answers them (docs/architecture.md#error-format), with
    apispec's plugin hooks; ``operations`` records what each operation reads (web.http.Reads)."""

    def response_helper(self, response: dict[str, Any], **_: Any) -> dict[str, Any] | None:
        body = response.get("content", {}).get("application/json")
        if body is not None and _is_problem(body.get("schema")):
            return {"content": {PROBLEM_CONTENT_TYPE: body}}
        return None

    def __init__(self) -> None:
        #: (endpoint, METHOD) -> what the operation's spec says it reads.
        self.operations: dict[tuple[str, str], Reads] = {}
        #: operationId -> the endpoint and method that has it (unique in a spec).
        self.operation_ids: dict[str, tuple[str, str]] = {}

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        self.spec = spec

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        rule: Rule | None = None,
        **_: Any,
    ) -> None:
        for method, operation in (operations or {}).items():
            # Parameters may still be component names here (flask-smorest's etag ones).
            query = [
                p
                for p in operation.get("parameters", [])
                if isinstance(p, dict) and p.get("in") == "query"
            ]
            if rule is not None:
                self.operations[(rule.endpoint, method.upper())] = Reads(
                    query=frozenset(p["name"] for p in query),
                    lists=frozenset(p["name"] for p in query if _repeats(p)),
                    body=next(iter(operation.get("requestBody", {}).get("content", {})), None),
                )
            where = (rule.endpoint if rule is not None else str(path), method.upper())
            self._check_operation_id(operation, where)
            # What authenticated() (or a service's own scheme) does not guard is public: said
            # explicitly, since the spec's root security asks for an access token.
            security = operation.setdefault("security", [])
            for requirement in security:
                for scheme in requirement:
                    self._declare_scheme(scheme)
            # A body the operation does not take is not read (web.http): no error of its own.
            codes = [422] + ([400, 413, 415] if "requestBody" in operation else [])
            responses = operation.setdefault("responses", {})
            for code in codes:
                if str(code) not in responses and code not in responses:
                    # flask-smorest names response components after http.HTTPStatus members.
                    responses[str(code)] = http.HTTPStatus(code).name

    def _check_operation_id(self, operation: dict[str, Any], where: tuple[str, str]) -> None:
        """Generated clients name their methods after operationId: one per operation, set
        with ``@blp.doc(operationId="listTodos")``, unique in the spec."""
        operation_id = operation.get("operationId")
        if not operation_id:
            raise ValueError(
                f"{where[1]} {where[0]} has no operationId: add @blp.doc(operationId=...)"
            )
        first = self.operation_ids.setdefault(operation_id, where)
        if first != where:
            raise ValueError(f"operationId {operation_id!r} of {where} is also {first}'s")

    def _declare_scheme(self, scheme: str) -> None:
        if scheme in _SCHEMES and scheme not in self.spec.components.security_schemes:
            self.spec.components.security_scheme(scheme, _SCHEMES[scheme])

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
        config = app.config
        spec_kwargs = {
            # Absolute: a generated client (Node's fetch, for one) needs a base URL to resolve
            # paths against, and a browser page or a test sets its own.
            "servers": [{"url": config["PUBLIC_URL"], "description": "PUBLIC_URL"}],
            "info": {"license": {"name": config["API_LICENSE"], "url": config["API_LICENSE_URL"]}},
            # Every operation states its own; this is what a new one gets by default.
            "security": _access_security(),
            **(kwargs.pop("spec_kwargs", None) or {}),
        }
        super().init_app(app, *args, spec_kwargs=spec_kwargs, **kwargs)
        self.spec.components.security_scheme(
            PASSWORD_SCHEME,
            {
                "type": "oauth2",
                "description": "Log in with a username and password at the auth service "
                "(OAuth2's password grant, for Swagger UI and first-party tools): the same "
                "access token as bearerAuth.",
                "flows": {"password": {"tokenUrl": config["TOKEN_URL"], "scopes": {}}},
            },
        )
        app.extensions[OPERATIONS_KEY] = self._responses.operations
        app.before_request(_refuse_undocumented_query_of_public_views)

    def handle_http_exception(self, error: HTTPException) -> Response:
        """Every HTTP error as a problem document (flask-smorest's documented override)."""
        return handle_http_exception(error)

    def register_core_components(self) -> None:
        """Declare the access-token scheme (Swagger UI's Authorize button), the headers error
        responses are sent with, and the page metadata header."""
        self.spec.components.security_scheme(BEARER_SCHEME, _SCHEMES[BEARER_SCHEME])
        self.spec.components.header(
            RETRY_AFTER_HEADER,
            {
                "description": "Seconds to wait before retrying.",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            },
        )
        self.spec.components.header(
            WWW_AUTHENTICATE_HEADER,
            {
                "description": 'An RFC 6750 challenge: `Bearer realm="<service>"`, with '
                "`error` and `error_description` when a token was sent and refused.",
                "required": True,
                "schema": {"type": "string"},
            },
        )
        # flask-smorest registers a response per status, lazily (only those referenced land in
        # the spec); these replace the ones whose status comes with a header.
        for status, headers in _ERROR_HEADERS.items():
            self.spec.components.response(
                http.HTTPStatus(status).name,
                {
                    "description": http.HTTPStatus(status).phrase,
                    "content": {"application/json": {"schema": self.ERROR_SCHEMA}},
                    "headers": headers,
                },
                lazy=True,
            )
        # flask-smorest's ETag header component (lazy too), saying what a client does with it.
        self.spec.components.header(
            "ETAG",
            {
                "description": "The strong ETag of the returned representation: send it back "
                "as If-Match to change exactly this version, or as If-None-Match to be told "
                "304 while it is unchanged.",
                "schema": {"type": "string"},
            },
            lazy=True,
        )
        # X-Pagination is JSON text: a header with `content` says so exactly (an object
        # `schema` would mean OpenAPI's simple style, "k,v,k,v").
        self.spec.components.header(
            PAGE_METADATA_HEADER,
            {
                "description": "Pagination metadata as a JSON object: total, total_pages, "
                "first_page, last_page, page, previous_page and next_page (the last two only "
                "when such a page exists). Sent only where the total costs O(1) (a kept "
                "counter: the operation says which), and with the deprecated page number.",
                "content": {
                    "application/json": {
                        "schema": PaginationMetadataSchema,
                        "example": {
                            "total": 42,
                            "total_pages": 3,
                            "first_page": 1,
                            "last_page": 3,
                            "page": 2,
                            "previous_page": 1,
                            "next_page": 3,
                        },
                    }
                },
            },
        )


def _repeats(parameter: dict[str, Any]) -> bool:
    """Whether a query parameter is given once per value (an exploded array, OpenAPI's
    default for one), not once in all."""
    schema = parameter.get("schema", {})
    return schema.get("type") == "array" and parameter.get("explode", True) is not False


def _is_problem(schema: Any) -> bool:
    if isinstance(schema, dict):
        return str(schema.get("$ref", "")).endswith("/Problem")
    return schema is ProblemSchema or isinstance(schema, ProblemSchema)


#: Set on a view that ``authenticated`` guards: its query is checked after its token.
_AFTER_AUTH = "factory_core_checks_query_after_auth"


def refuse_undocumented_query() -> None:
    """422 for a query argument the operation's spec does not name (its view may read no
    query at all), with the errors webargs gives, or that it names once and is given more
    often (webargs would take the first); nothing for routes outside the spec."""
    if not request.environ.get("QUERY_STRING"):
        return
    reads = current_operation()
    if reads is None:  # not an operation of the spec: /metrics, /docs, /openapi.json
        return
    errors = {name: ["Unknown field."] for name in sorted(set(request.args) - reads.query)}
    for name, values in request.args.lists():
        if name not in errors and name not in reads.lists and len(values) > 1:
            errors[name] = ["Given more than once."]
    if errors:
        raise Problem(
            422,
            "The request has invalid fields; see errors.",
            code="unprocessable_content",
            errors={"query": errors},
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
    blp: flask_smorest.Blueprint, *, fresh: bool = False, refresh: bool = False, mfa: bool = False
) -> Callable[[View], View]:
    """Require a valid bearer token (``fresh``: from a login; ``refresh``: a refresh token;
    ``mfa``: from a sign-in with a second factor, else 403 ``mfa_required``) before anything
    else the view does, and document the scheme, 401 and 503 (and 403) on its operation."""
    security = [{REFRESH_SCHEME: []}] if refresh else _access_security()

    def decorate(view: View) -> View:
        documented = blp.alt_response(503, response="SERVICE_UNAVAILABLE")(
            blp.alt_response(401, response="UNAUTHORIZED")(blp.doc(security=security)(view))
        )
        if mfa:
            documented = blp.alt_response(403, response="FORBIDDEN")(documented)

        @functools.wraps(documented)
        def gated(*args: Any, **kwargs: Any) -> Any:
            verify_bearer(fresh=fresh, refresh=refresh, mfa=mfa)
            refuse_undocumented_query()
            return documented(*args, **kwargs)

        setattr(gated, _AFTER_AUTH, True)
        return cast(View, gated)

    return decorate
