"""/auth/token: OAuth2's password grant (RFC 6749 section 4.3) for Swagger UI's Authorize and
first-party tools: login's check, limits, session and tokens from a form body; refusals as RFC
6749 section 5.2 has them, in the shared problem shape; CORS for the origins auth allows."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from tests.integration.auth.helpers import PASSWORD, bearer, claims_of, register
from tests.integration.auth.test_auth_mfa import turn_on
from tests.support.problems import assert_problem
from werkzeug.datastructures import MultiDict

# What Swagger UI 4 sends: its form, client credentials in HTTP Basic (empty here).
SWAGGER_HEADERS = {
    "X-Requested-With": "XMLHttpRequest",
    "Authorization": "Basic " + base64.b64encode(b":").decode(),
}


def grant(
    client: FlaskClient,
    password: str = PASSWORD,
    headers: dict[str, str] = SWAGGER_HEADERS,
    **fields: str,
) -> Any:
    form = {"grant_type": "password", "username": "alice", "password": password, "scope": ""}
    return client.post("/auth/token", data={**form, **fields}, headers=headers)


def refused(response: Any, code: str, error: str) -> dict[str, Any]:
    body = assert_problem(response, 400, code)
    assert body["error"] == error
    assert body["error_description"] == body["detail"]
    return body


def test_the_password_grant_answers_a_token_pair_that_works(client: FlaskClient) -> None:
    user = register(client)
    response = grant(client)
    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    pair = response.json
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] > 0
    assert claims_of(pair["access_token"])["amr"] == ["pwd"]
    me = client.get("/auth/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 200
    assert me.json["id"] == user["id"]
    # A session like login's: listed, and its refresh token rotates.
    sessions = client.get("/auth/me/sessions", headers=bearer(pair["access_token"]))
    assert sessions.status_code == 200
    assert len(sessions.json) == 1
    refreshed = client.post("/auth/refresh", headers=bearer(pair["refresh_token"]))
    assert refreshed.status_code == 200, refreshed.json


def test_a_wrong_password_is_invalid_grant_and_logged(client: FlaskClient) -> None:
    register(client)
    body = refused(grant(client, password="wrong password"), "invalid_credentials", "invalid_grant")
    assert body["detail"] == "Invalid username or password."
    # An unknown account is answered the same.
    same = refused(grant(client, username="nobody"), "invalid_credentials", "invalid_grant")
    assert same["detail"] == body["detail"]
    pair = grant(client).json
    events = client.get("/auth/me/security-events", headers=bearer(pair["access_token"])).json
    failed = [event for event in events if event["type"] == "sign_in_failed"]
    assert [event["reason"] for event in failed] == ["wrong_password"]
    assert any(event["type"] == "sign_in" for event in events)


def test_only_the_password_grant_is_offered(client: FlaskClient) -> None:
    register(client)
    refused(
        grant(client, grant_type="client_credentials"),
        "unsupported_grant_type",
        "unsupported_grant_type",
    )
    # Checked before the other fields (RFC 6749 section 5.2).
    other = client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": "x"})
    refused(other, "unsupported_grant_type", "unsupported_grant_type")
    # A missing parameter: invalid_request, with per-field errors.
    response = client.post("/auth/token", data={"grant_type": "password", "username": "alice"})
    body = refused(response, "invalid_request", "invalid_request")
    assert body["errors"] == {"form": {"password": ["Missing data for required field."]}}
    # Parameters it does not know are ignored (section 3.2).
    extra = grant(client, audience="todo", resource="https://x.example")
    assert extra.status_code == 200, extra.json


def test_a_parameter_given_twice_is_refused_not_chosen(client: FlaskClient) -> None:
    # RFC 6749 section 3.2: parameters MUST NOT be included more than once; taking the first
    # (webargs' way with a form) would let a proxy and auth read two different requests.
    register(client)
    form = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("username", "mallory"),
        ("password", PASSWORD),
    ]
    response = client.post("/auth/token", data=MultiDict(form), headers=SWAGGER_HEADERS)
    body = refused(response, "invalid_request", "invalid_request")
    assert body["errors"] == {"form": {"username": ["Given more than once."]}}
    # Repeated, even with another grant type first: invalid_request (section 3.2), not
    # unsupported_grant_type (found by review).
    mixed = [("grant_type", "x"), ("grant_type", "password"), ("username", "alice")]
    mixed_answer = client.post("/auth/token", data=MultiDict([*mixed, ("password", PASSWORD)]))
    refused(mixed_answer, "invalid_request", "invalid_request")
    twice = [("grant_type", "password"), ("grant_type", "password")]
    response = client.post(
        "/auth/token", data=MultiDict([*twice, ("username", "alice"), ("password", PASSWORD)])
    )
    assert refused(response, "invalid_request", "invalid_request")["errors"] == {
        "form": {"grant_type": ["Given more than once."]}
    }
    # What it ignores may come as often as it likes.
    ignored = [("grant_type", "password"), ("username", "alice"), ("password", PASSWORD)]
    response = client.post(
        "/auth/token", data=MultiDict([*ignored, ("resource", "a"), ("resource", "b")])
    )
    assert response.status_code == 200, response.json


def test_an_account_with_a_second_factor_is_sent_to_login(client: FlaskClient) -> None:
    register(client)
    turn_on(client, grant(client).json)
    body = refused(grant(client), "mfa_required", "invalid_grant")
    assert "/auth/login/mfa" in body["detail"]


def test_it_spends_login_s_rate_limits(make_auth_app: Callable[..., Flask]) -> None:
    client = make_auth_app(LOGIN_RATE_LIMIT_PER_ADDRESS="2 per minute").test_client()
    register(client)
    assert grant(client, password="wrong").status_code == 400
    assert client.post("/auth/login", json={"username": "a", "password": "b"}).status_code == 401
    response = grant(client)
    assert "error" not in assert_problem(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1


def test_only_a_form_body_is_read_here_and_only_here(client: FlaskClient) -> None:
    register(client)
    as_json = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    refused = assert_problem(client.post("/auth/token", json=as_json), 415)
    assert "application/x-www-form-urlencoded" in refused["detail"]
    # Every other operation still takes JSON only.
    login_form = {"username": "alice", "password": PASSWORD}
    assert_problem(client.post("/auth/login", data=login_form), 415)


def test_cors_lets_an_allowed_page_log_in(make_auth_app: Callable[..., Flask]) -> None:
    # The preflight (with Swagger UI's headers) is the core's: test_web.py.
    origin = "http://127.0.0.1:5002"
    client = make_auth_app(CORS_ORIGINS=[origin]).test_client()
    register(client)
    answer = grant(client, headers={**SWAGGER_HEADERS, "Origin": origin})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    stranger = grant(client, headers={**SWAGGER_HEADERS, "Origin": "https://evil.example"})
    assert_problem(stranger, 403, "origin_refused")  # below: refused before it counts
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_the_docs_may_reach_the_token_endpoint_and_nothing_else(
    make_auth_app: Callable[..., Flask],
) -> None:
    client = make_auth_app(TOKEN_URL="https://login.example.org/auth/token").test_client()
    policy = client.get("/docs").headers["Content-Security-Policy"]
    assert "connect-src 'self' https://login.example.org;" in policy
    spec = client.get("/openapi.json").json
    scheme = spec["components"]["securitySchemes"]["oauth2Password"]
    assert scheme["flows"] == {
        "password": {"tokenUrl": "https://login.example.org/auth/token", "scopes": {}}
    }
    assert spec["paths"]["/auth/token"]["post"]["security"] == []
    me = spec["paths"]["/auth/me"]["get"]["security"]
    assert me == [{"bearerAuth": []}, {"oauth2Password": []}]


def test_another_site_s_page_is_refused_before_it_counts(
    make_auth_app: Callable[..., Flask],
) -> None:
    # A form POST needs no CORS preflight: any site could make its visitors' browsers send it.
    client = make_auth_app(
        LOGIN_RATE_LIMIT_PER_ADDRESS="2 per minute", CORS_ORIGINS=[r"^http://127\.0\.0\.1:\d+$"]
    ).test_client()
    register(client)
    for _ in range(3):
        evil = grant(client, headers={**SWAGGER_HEADERS, "Origin": "https://evil.example"})
        assert_problem(evil, 403, "origin_refused")
        assert_problem(grant(client, headers={"Origin": "null"}), 403, "origin_refused")
    # Nothing was spent: the owner's page (allowed), its own origin, and a non-browser
    # client (no Origin) log in.
    page = grant(client, headers={**SWAGGER_HEADERS, "Origin": "http://127.0.0.1:5002"})
    assert page.status_code == 200, page.json
    own = grant(client, headers={**SWAGGER_HEADERS, "Origin": "http://127.0.0.1:5001"})
    assert own.status_code == 200, own.json
    assert_problem(grant(client, headers={}), 429, "rate_limited")


def test_an_allowed_pattern_must_match_the_whole_origin(
    make_auth_app: Callable[..., Flask],
) -> None:
    # Written without anchors, as is easy to do; a look-alike host must not pass for it.
    client = make_auth_app(CORS_ORIGINS=[r"https://.*\.example\.com"]).test_client()
    register(client)
    look_alike = {**SWAGGER_HEADERS, "Origin": "https://app.example.com.evil.net"}
    assert_problem(grant(client, headers=look_alike), 403, "origin_refused")
    page = grant(client, headers={**SWAGGER_HEADERS, "Origin": "https://app.example.com"})
    assert page.status_code == 200, page.json
