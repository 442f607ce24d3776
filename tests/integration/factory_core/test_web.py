"""HTTP hygiene: CORS only when configured, trusted proxies only when configured."""

from __future__ import annotations

import pytest
from flask import Flask, request, session
from tests.support import AppFactory
from tests.support.sample import create_sample

from factory_core import ConfigurationError

ORIGIN = "https://app.example"


def test_no_cors_headers_by_default(make_app: AppFactory) -> None:
    client = make_app(create_sample).test_client()
    response = client.get("/livez", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_origins_given_as_one_string_are_refused_at_start(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An environment value that is not JSON stays a string: each of its characters would be
    # an origin, "*" among them (any site).
    monkeypatch.setenv("SAMPLE_CORS_ORIGINS", "https://*.example.com")
    with pytest.raises(ConfigurationError, match="CORS_ORIGINS must be a JSON list"):
        make_app(create_sample)


def test_an_allowed_pattern_must_match_the_whole_origin(make_app: AppFactory) -> None:
    # flask-cors matches a pattern from the start only: an unanchored one let a look-alike
    # host read every answer (found by review).
    client = make_app(create_sample, CORS_ORIGINS=[r"https://.*\.example\.com"]).test_client()
    look_alike = client.get("/livez", headers={"Origin": "https://app.example.com.evil.net"})
    assert "Access-Control-Allow-Origin" not in look_alike.headers
    page = client.get("/livez", headers={"Origin": "https://APP.example.com"})
    assert page.headers["Access-Control-Allow-Origin"] == "https://APP.example.com"


def test_configured_origins_get_cors_and_others_do_not(make_app: AppFactory) -> None:
    client = make_app(create_sample, CORS_ORIGINS=[ORIGIN]).test_client()
    preflight = client.options(
        "/items",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            # X-Requested-With: Swagger UI's Authorize sends it to a token endpoint.
            "Access-Control-Request-Headers": "Authorization, Content-Type, If-Match, "
            "X-Requested-With",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = set(preflight.headers["Access-Control-Allow-Headers"].lower().split(", "))
    assert {"authorization", "content-type", "if-match", "x-requested-with"} <= allowed
    response = client.get("/livez", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = set(response.headers["Access-Control-Expose-Headers"].split(", "))
    # Every response header the specs document, for a browser's client to read (found from
    # outside: Retry-After, Idempotent-Replayed and WWW-Authenticate were not).
    assert exposed == {
        "ETag",
        "Location",
        "Link",
        "X-Pagination",
        "X-Request-ID",
        "Retry-After",
        "Idempotent-Replayed",
        "WWW-Authenticate",
    }

    other = client.get("/livez", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def _client_address(app: Flask) -> str | None:
    """The remote address a view sees for a request that claims X-Forwarded-For."""
    seen: list[str | None] = []
    app.add_url_rule("/whoami-test", "whoami_test", lambda: seen.append(request.remote_addr) or "")
    app.test_client().get("/whoami-test", headers={"X-Forwarded-For": "203.0.113.9"})
    return seen[0]


def test_forwarded_for_is_ignored_without_trusted_proxies(make_app: AppFactory) -> None:
    assert _client_address(make_app(create_sample)) == "127.0.0.1"


def test_forwarded_for_is_used_behind_a_trusted_proxy(make_app: AppFactory) -> None:
    assert _client_address(make_app(create_sample, TRUSTED_PROXY_COUNT=1)) == "203.0.113.9"


def test_hsts_only_when_configured(make_app: AppFactory) -> None:
    plain = make_app(create_sample).test_client().get("/livez")
    assert "Strict-Transport-Security" not in plain.headers
    secure = make_app(create_sample, HSTS_SECONDS=31536000).test_client().get("/livez")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_cookie_sessions(make_app: AppFactory) -> None:
    app = make_app(create_sample)

    @app.get("/session-test")
    def touch_session() -> str:
        session["seen"] = True  # a NullSession refuses writes
        return ""

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/session-test")
    assert response.status_code == 500
    assert "Set-Cookie" not in response.headers
    assert "Set-Cookie" not in app.test_client().get("/livez").headers
