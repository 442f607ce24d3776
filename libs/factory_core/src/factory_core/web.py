"""HTTP hygiene: JSON-only bodies, security headers, CORS, trusted proxies, offline Swagger UI."""

from __future__ import annotations

from flask import Blueprint, Flask, Request, Response, abort, request
from flask.sessions import SessionInterface, SessionMixin
from flask_cors import CORS
from swagger_ui_bundle import swagger_ui_path
from werkzeug.middleware.proxy_fix import ProxyFix

DOCS_ASSETS = "/docs/assets/"

_API_CSP = "default-src 'none'; frame-ancestors 'none'"
# flask-smorest's Swagger UI page starts the bundle with an inline script.
_DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class StatelessSessions(SessionInterface):
    """No cookie sessions: every request authenticates with its bearer token.

    Flask's default opens a signed-cookie session (building a serializer) on every request;
    here `flask.session` is a NullSession that refuses writes.
    """

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        return None

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def _require_json_body() -> None:
    """415 for a body that is not JSON, before any view or parser reads it."""
    if request.method not in _BODY_METHODS:
        return
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    if has_body and not request.is_json:
        abort(415)


def _security_headers(response: Response, hsts_seconds: int) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    is_docs = request.path.startswith("/docs")
    headers.setdefault("Content-Security-Policy", _DOCS_CSP if is_docs else _API_CSP)
    if hsts_seconds:
        headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}")
    return response


def init_web(app: Flask) -> None:
    """Bind HTTP hygiene and the Swagger UI assets to ``app``."""
    config = app.config
    if config["TRUSTED_PROXY_COUNT"]:
        count = int(config["TRUSTED_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )
    if config["CORS_ORIGINS"]:
        CORS(
            app,
            origins=config["CORS_ORIGINS"],
            expose_headers=["ETag", "Location", "Link", "X-Pagination", "X-Request-ID"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "X-Request-ID",
            ],
        )
    app.session_interface = StatelessSessions()
    app.before_request(_require_json_body)
    hsts = int(config["HSTS_SECONDS"])
    app.after_request(lambda response: _security_headers(response, hsts))

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
            "persistAuthorization": True,
            "displayRequestDuration": True,
            "tryItOutEnabled": False,
            # Swagger UI would otherwise send the spec to an online validator.
            "validatorUrl": None,
        },
    )
