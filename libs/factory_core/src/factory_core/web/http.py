"""HTTP hygiene: JSON-only bodies, security headers, CORS, trusted proxies, offline Swagger UI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Request, Response, abort, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SessionInterface, SessionMixin
from flask_cors import CORS
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from factory_core.runtime.config import ConfigurationError
from factory_core.web.errors import Problem

DOCS_ASSETS = "/docs/assets/"

_API_CSP = "default-src 'none'; frame-ancestors 'none'"
# flask-smorest's Swagger UI page starts the bundle with an inline script; Authorize posts to
# the auth service's token endpoint (TOKEN_URL), the one other origin the page may reach.
_DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self' {token_origin}; frame-ancestors 'none'"
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM = "application/x-www-form-urlencoded"
_ABSOLUTE_URL = re.compile(r"https?://[^\s/?#;,'\"]+(/[^\s;,'\"]*)?")
_REGEX_CHARS = frozenset("*\\]?$^[]()")  # what makes flask-cors read an origin as a pattern


def origin_allowed(origin: str) -> bool:
    """Whether a browser page of ``origin`` may use this service: its own (PUBLIC_URL's), the
    token endpoint's, or one CORS_ORIGINS allows (read as flask-cors reads it: ``*``, a
    regular expression, or an exact origin)."""
    config = current_app.config
    if origin in {_origin_of(config["PUBLIC_URL"]), _origin_of(config["TOKEN_URL"])}:
        return True
    return any(
        allowed == "*" or allowed.lower() == origin.lower()
        if isinstance(allowed, str)
        else allowed.match(origin)
        for allowed in _allowed_origins(config["CORS_ORIGINS"])
    )


def _allowed_origins(origins: list[str]) -> list[str | re.Pattern[str]]:
    r"""CORS_ORIGINS as flask-cors takes them, each pattern (an entry with a regular
    expression's characters) compiled to match the whole origin: flask-cors matches from the
    start only, so an unanchored https://.*\.example\.com would pass
    https://app.example.com.evil.net."""
    return [
        re.compile(rf"(?:{allowed})\Z", re.IGNORECASE)
        if allowed != "*" and _REGEX_CHARS.intersection(allowed)
        else allowed
        for allowed in origins
    ]


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


#: app.extensions: (endpoint, METHOD) -> Reads, filled as the spec is written (web.api).
OPERATIONS_KEY = "factory_core.operations"


@dataclass(frozen=True)
class Reads:
    """What an operation's spec says it reads: its query arguments (``lists`` may repeat),
    and the media type of its body (None: it takes none; a form where a view reads one, as
    an OAuth2 token endpoint does, RFC 6749 section 4.3.2)."""

    query: frozenset[str]
    lists: frozenset[str]
    body: str | None


def current_operation() -> Reads | None:
    """What this request's operation reads, per its spec; None outside the spec (/metrics,
    /docs) and for a route that did not match."""
    if request.url_rule is None:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    operations: dict[tuple[str, str], Reads] = current_app.extensions.get(OPERATIONS_KEY, {})
    return operations.get((request.url_rule.endpoint, method))


class StatelessSessions(SessionInterface):
    """No cookie sessions (every request authenticates with its bearer token): `flask.session`
    is a NullSession that refuses writes."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        return None

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


class JSONBodyRequest(Request):
    """A request whose unreadable JSON body is a 400 problem that says why."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:  # not a JSON content type
            return super().on_json_loading_failed(e)
        if isinstance(e, RefusedJSONError):
            raise Problem(400, f"The request body is not accepted: {e}.", code="bad_request")
        # The parser's own words (a codec's, Python's integer limit) say nothing to a client.
        raise Problem(400, "The request body is not valid JSON.", code="bad_request")


class RefusedJSONError(ValueError):
    """JSON that parses, and that this service refuses (its message is for the client)."""


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing (a ValueError: a request body's 400) what would fail later, far
    from the parser: nesting too deep, lone surrogates."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise RefusedJSONError("JSON nested too deeply") from None
        text = s if isinstance(s, str) else s.decode("utf-8", "replace")
        # A lone surrogate can only come from a \uD800-\uDFFF escape: look closer only then.
        if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(value):
            raise RefusedJSONError("JSON string with a lone surrogate (not Unicode text)")
        return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _holds_lone_surrogate(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _require_json_body() -> None:
    """415 for a body that is not JSON (or not the form its spec takes) and 400 for one that
    does not parse, before any view (parsed once, cached by Flask: no parser downstream fails
    on it in its own way)."""
    if request.method not in _BODY_METHODS or request.routing_exception is not None:
        return  # no body to read, or a 404 or 405 to answer first
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    operation = current_operation()
    if not has_body or (operation is not None and operation.body is None):
        return  # no body, or one the operation does not take: not read, nor refused
    # Chunked (no Content-Length): Werkzeug reads the first MAX_CONTENT_LENGTH bytes and drops
    # the rest without a word; a body with more (a byte left in the server's stream) is a 413.
    limit = request.max_content_length
    if (
        request.content_length is None
        and limit is not None
        and len(request.get_data(cache=True)) >= limit
        and request.environ["wsgi.input"].read(1)
    ):
        raise RequestEntityTooLarge()
    if operation is not None and operation.body == _FORM:
        if request.mimetype != _FORM:
            raise Problem(
                415,
                f"The request body must be a form (Content-Type: {_FORM}).",
                code="unsupported_media_type",
            )
        return
    if not request.is_json:
        abort(415)
    request.get_json()  # a 400 when the body is not JSON


def _security_headers(hsts_seconds: int, token_url: str) -> dict[bool, tuple[tuple[str, str], ...]]:
    """The headers every response gets unless its view set them: for the API, for /docs."""
    common = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if hsts_seconds:
        common.append(("Strict-Transport-Security", f"max-age={hsts_seconds}"))
    docs_csp = _DOCS_CSP.format(token_origin=_origin_of(token_url))
    return {
        is_docs: (*common, ("Content-Security-Policy", docs_csp if is_docs else _API_CSP))
        for is_docs in (False, True)
    }


def _add_security_headers(
    response: Response, defaults: dict[bool, tuple[tuple[str, str], ...]]
) -> Response:
    headers = response.headers
    # One pass over the response's headers: Werkzeug's setdefault costs an exception per
    # header it does not find, six of them on every response.
    present = {name.lower() for name in headers.keys()}  # noqa: SIM118 (Headers, not a dict)
    for name, value in defaults[request.path.startswith("/docs")]:
        if name.lower() not in present:
            headers.add(name, value)
    return response


def init_web(app: Flask) -> None:
    """Bind HTTP hygiene and the Swagger UI assets to ``app``."""
    config = app.config
    if not _ABSOLUTE_URL.fullmatch(str(config["TOKEN_URL"])):  # it goes into a header
        raise ConfigurationError(
            f"TOKEN_URL must be an absolute http(s) URL, not {config['TOKEN_URL']!r}"
        )
    origins = config["CORS_ORIGINS"]
    if not isinstance(origins, list) or not all(isinstance(item, str) for item in origins):
        raise ConfigurationError(
            "CORS_ORIGINS must be a JSON list of origins or patterns, e.g. "
            f"'[\"https://app.example.com\"]', not {origins!r}"
        )
    if config["TRUSTED_PROXY_COUNT"]:
        count = int(config["TRUSTED_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )
    if config["CORS_ORIGINS"]:
        CORS(
            app,
            origins=_allowed_origins(origins),
            expose_headers=[  # every response header the specs document
                "ETag",
                "Location",
                "Link",
                "X-Pagination",
                "X-Request-ID",
                "Retry-After",
                "Idempotent-Replayed",
                "WWW-Authenticate",
            ],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "X-Request-ID",
                "X-Requested-With",  # sent by Swagger UI's Authorize to a token endpoint
            ],
        )
    app.session_interface = StatelessSessions()
    app.json = StrictJSONProvider(app)
    app.request_class = JSONBodyRequest
    app.before_request(_require_json_body)
    security_headers = _security_headers(int(config["HSTS_SECONDS"]), config["TOKEN_URL"])
    app.after_request(lambda response: _add_security_headers(response, security_headers))

    # Swagger UI's JS and CSS come from the swagger-ui-bundle package: /docs works offline.
    assets = Blueprint(
        "swagger_ui_assets",
        __name__,
        static_folder=swagger_ui_path,
        static_url_path=DOCS_ASSETS.rstrip("/"),
    )
    app.register_blueprint(assets)
    config.setdefault("OPENAPI_SWAGGER_UI_URL", DOCS_ASSETS)
    config.setdefault(
        "OPENAPI_SWAGGER_UI_CONFIG",
        {
            # Off: Swagger UI would keep what Authorize was given, a login's password and
            # refresh token included, in the browser's localStorage, with no expiry.
            "persistAuthorization": False,
            "displayRequestDuration": True,
            "tryItOutEnabled": False,
            # Swagger UI would otherwise send the spec to an online validator.
            "validatorUrl": None,
        },
    )
