"""One error shape for every failure: RFC 9457 problem details."""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Flask, Response, current_app, g, json, request
from pymongo.errors import (
    ConnectionFailure,
    ExecutionTimeout,
    OperationFailure,
    PyMongoError,
    WriteConcernError,
    WTimeoutError,
)
from werkzeug.exceptions import HTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"

logger = logging.getLogger(__name__)


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem details object, as every error response of these services is."""

    class Meta:
        # Open (additionalProperties: true in the spec): RFC 9457 lets a problem type add
        # extension members, and a client must accept members it does not know.
        unknown = ma.INCLUDE

    type = ma.fields.String(
        metadata={"description": "A URI reference that identifies the problem type."},
        dump_default="about:blank",
    )
    title = ma.fields.String(metadata={"description": "A short summary of the problem type."})
    status = ma.fields.Integer(metadata={"description": "The HTTP status code."})
    detail = ma.fields.String(metadata={"description": "What went wrong in this occurrence."})
    instance = ma.fields.String(metadata={"description": "The request path."})
    code = ma.fields.String(
        metadata={"description": "A stable, machine-readable error code, e.g. `token_expired`."}
    )
    request_id = ma.fields.String(
        metadata={"description": "The request id, as in the X-Request-ID header."}
    )
    errors = ma.fields.Dict(
        metadata={
            "description": "Per-field messages (422), keyed by location then field name, "
            'e.g. `{"json": {"title": ["Missing data for required field."]}}`.'
        }
    )


class Problem(HTTPException):
    """An error raised on purpose, answered as a problem document with a stable ``code``;
    ``errors``: per-field messages (422), ``retry_after``: seconds, sent as Retry-After,
    ``members``: RFC 9457 extension members (never replacing the standard ones)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str,
        errors: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: int | None = None,
        members: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = status  # werkzeug's name for the HTTP status
        self.problem_code = code
        self.errors = errors
        self.members = dict(members or {})
        self.headers = dict(headers or {})
        if retry_after is not None:
            self.headers["Retry-After"] = str(retry_after)


# RFC 9110 renamed these; Python's phrases follow only from 3.13. Bodies must not depend on
# the interpreter, since clients switch on `code`.
_RFC9110_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def _title(status: int) -> str:
    return _RFC9110_TITLES.get(status) or http.HTTPStatus(status).phrase


def problem(
    status: int,
    detail: str | None = None,
    *,
    code: str | None = None,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    members: Mapping[str, Any] | None = None,
) -> Response:
    """Build an ``application/problem+json`` response."""
    phrase = _title(status)
    body: dict[str, Any] = {
        **(members or {}),
        "type": "about:blank",
        "title": phrase,
        "status": status,
        "detail": detail or phrase,
        "instance": request.path,
        "code": code or phrase.lower().replace(" ", "_").replace("-", "_"),
        "request_id": g.get("request_id", ""),
    }
    if errors:
        body["errors"] = errors
    response = current_app.response_class(
        json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE
    )
    if headers:
        response.headers.update(headers)
    return response


# Werkzeug's own descriptions talk to browsers ("the browser (or proxy) sent a request...");
# these are shorter and say what an API client can do about it.
_HTTP_DETAILS = {
    400: "The request is malformed.",
    404: "The requested resource was not found.",
    405: "The method is not allowed for this resource.",
    413: "The request body is too large.",
    415: "The request body must be JSON (Content-Type: application/json).",
}


def handle_http_exception(error: HTTPException) -> Response:
    """Turn any HTTP error (a Problem, werkzeug's, webargs' 422) into a problem response."""
    status = error.code or 500
    # Keep protocol headers werkzeug attaches, such as Allow on 405.
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    if isinstance(error, Problem):
        headers.update(error.headers)
        return problem(
            status,
            error.description,
            code=error.problem_code,
            errors=error.errors,
            headers=headers,
            members=error.members,
        )
    # webargs puts a schema's validation messages (and any headers) in `data`.
    data = getattr(error, "data", None) or {}
    headers.update(data.get("headers") or {})
    errors = data.get("messages")
    if status == 422 and errors:
        detail = "The request has invalid fields; see errors."
    else:
        detail = _HTTP_DETAILS.get(status) or error.description or _title(status)
    return problem(status, detail, errors=errors, headers=headers)


def handle_database_error(error: PyMongoError) -> Response:
    """The database is unreachable or too slow: a fast 503 the client may retry."""
    logger.warning("database unavailable: %s", error.__class__.__name__)
    retry_after = str(current_app.config["MONGO_RETRY_AFTER_SECONDS"])
    return problem(
        503,
        "The database is temporarily unavailable. Retry later.",
        code="database_unavailable",
        headers={"Retry-After": retry_after},
    )


# Server errors that say the database cannot serve right now (shutting down, stepping down,
# overloaded, out of time): a 503 to retry, like an unreachable server. Any other
# OperationFailure means the service sent something it should not have: a bug, a 500.
_UNAVAILABLE_CODES = frozenset(
    {
        6,  # HostUnreachable
        7,  # HostNotFound
        50,  # MaxTimeMSExpired
        64,  # WriteConcernFailed
        89,  # NetworkTimeout
        91,  # ShutdownInProgress
        112,  # WriteConflict
        133,  # FailedToSatisfyReadPreference
        134,  # ReadConcernMajorityNotAvailableYet
        189,  # PrimarySteppedDown
        262,  # ExceededTimeLimit
        9001,  # SocketException
        10107,  # NotWritablePrimary
        11600,  # InterruptedAtShutdown
        11602,  # InterruptedDueToReplStateChange
        13435,  # NotPrimaryNoSecondaryOk
        13436,  # NotPrimaryOrSecondary
    }
)


def handle_operation_failure(error: OperationFailure) -> Response:
    """A database refusal: 503 when the database is what failed, else a bug (500)."""
    transient = (
        isinstance(error, WriteConcernError)
        or error.code in _UNAVAILABLE_CODES
        or error.has_error_label("RetryableWriteError")
        or error.has_error_label("TransientTransactionError")
    )
    if transient:
        return handle_database_error(error)
    return handle_unexpected_error(error)


def handle_unexpected_error(error: Exception) -> Response:
    """Log the traceback; tell the client only that it failed (details only with DEBUG)."""
    logger.exception("unhandled exception")
    detail = f"{error.__class__.__name__}: {error}" if current_app.debug else None
    return problem(500, detail or "An unexpected error occurred.", code="internal_error")


def register_error_handlers(app: Flask) -> None:
    """Route every other error class to the problem shape (HTTP errors: Api's handler)."""
    for database_error in (ConnectionFailure, ExecutionTimeout, WTimeoutError):
        app.register_error_handler(database_error, handle_database_error)
    app.register_error_handler(OperationFailure, handle_operation_failure)
    app.register_error_handler(Exception, handle_unexpected_error)
