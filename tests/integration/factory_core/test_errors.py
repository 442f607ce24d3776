"""Every error, from every layer, is an RFC 9457 problem with the right status and headers."""

from __future__ import annotations

import http
import io
from typing import Any

import pytest
from tests.support import AppFactory
from tests.support.devdb import free_port
from tests.support.problems import assert_problem
from tests.support.sample import create_sample
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from factory_core.web.errors import PROBLEM_CONTENT_TYPE


def test_unknown_route_is_404_problem(client: Any) -> None:
    body = assert_problem(client.get("/nowhere"), 404, "not_found")
    assert body["instance"] == "/nowhere"


def test_wrong_method_is_405_with_allow(client: Any) -> None:
    response = client.delete("/items")
    assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"POST", "OPTIONS"}


def test_malformed_json_is_400(client: Any) -> None:
    response = client.post("/items", data="{not json", content_type="application/json")
    body = assert_problem(response, 400, "bad_request")
    assert body["detail"] == "The request body is not valid JSON."


@pytest.mark.parametrize(
    "body",
    [b'{"name": "caf\xe9"}', b'{"name": "x", "count": ' + b"1" * 5000 + b"}"],
    ids=["latin-1", "5000 digits"],
)
def test_a_body_json_cannot_read_says_so_and_nothing_of_python(client: Any, body: bytes) -> None:
    # Found from outside: the codec's or the integer limit's own message was the detail.
    response = client.post("/items", data=body, content_type="application/json")
    body_ = assert_problem(response, 400, "bad_request")
    assert body_["detail"] == "The request body is not valid JSON."


def test_non_json_body_is_415(client: Any) -> None:
    response = client.post(
        "/items", data="name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415, "unsupported_media_type")


def test_an_unknown_route_or_method_is_said_before_the_body_s_type(client: Any) -> None:
    form = {"data": "name=x", "content_type": "application/x-www-form-urlencoded"}
    assert_problem(client.post("/no/such/route", **form), 404, "not_found")
    assert_problem(client.put("/items", **form), 405, "method_not_allowed")


def test_oversize_body_is_413(client: Any) -> None:
    response = client.post("/items", json={"name": "x" * 70_000})
    assert_problem(response, 413, "content_too_large")


def _chunked(body: bytes) -> Request:
    """A POST /items as gunicorn hands a chunked one over: no Content-Length, the input
    terminated by the server."""
    environ: dict[str, Any] = EnvironBuilder(
        path="/items", method="POST", input_stream=io.BytesIO(body), content_type="application/json"
    ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    return Request(environ)


def test_a_chunked_body_past_the_limit_is_413_not_cut(client: Any) -> None:
    # Found from outside: the first MAX_CONTENT_LENGTH (64 KiB) bytes were read and the rest
    # dropped, so a long body became another, valid one (a 201).
    body = b'{"name": "x"}' + b" " * 70_000 + b"GARBAGE"
    assert_problem(client.open(_chunked(body)), 413, "content_too_large")
    exactly = b'{"name": "x"}'.ljust(64 * 1024)
    assert client.open(_chunked(exactly)).status_code == 201


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({}, "name", "Missing data for required field."),
        ({"name": {"$ne": ""}}, "name", "Not a valid string."),
        ({"name": "x" * 21}, "name", "Length must be between 1 and 20."),
        ({"name": "ok", "owner": "someone"}, "owner", "Unknown field."),
        ({"name": "ok", "count": "many"}, "count", "Not a valid integer."),
    ],
)
def test_invalid_fields_are_422_with_errors(
    client: Any, payload: dict[str, Any], field: str, message: str
) -> None:
    body = assert_problem(client.post("/items", json=payload), 422, "unprocessable_content")
    assert body["errors"] == {"json": {field: [message]}}
    assert body["detail"] == "The request has invalid fields; see errors."


def test_valid_request_passes_through(client: Any) -> None:
    response = client.post("/items", json={"name": "ok"})
    assert response.status_code == 201
    assert response.json == {"name": "ok", "count": 1}


def test_unhandled_exception_is_500_without_internals(client: Any) -> None:
    response = client.get("/items/boom")
    body = assert_problem(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "secret internal detail" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    assert body["detail"] == "An unexpected error occurred."


def test_debug_shows_exception_detail(make_app: AppFactory) -> None:
    client = make_app(create_sample, ENV="development", DEBUG=True).test_client()
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    body = assert_problem(client.get("/items/boom"), 500, "internal_error")
    assert body["detail"] == "RuntimeError: secret internal detail"


def test_database_outage_is_fast_503_with_retry_after(make_app: AppFactory) -> None:
    app = make_app(
        create_sample,
        MONGO_URI=f"mongodb://127.0.0.1:{free_port()}/",
        MONGO_SERVER_SELECTION_TIMEOUT_MS=300,
    )
    response = app.test_client().post("/items", json={"name": "ok"})
    body = assert_problem(response, 503, "database_unavailable")
    assert response.headers["Retry-After"] == "2"
    assert "Traceback" not in body["detail"]


def test_security_headers_on_every_response(client: Any) -> None:
    for response in (client.get("/livez"), client.get("/nowhere")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_view_s_own_security_header_is_kept_once(sample_app: Any) -> None:
    sample_app.add_url_rule(
        "/framed", "framed", lambda: ("ok", 200, {"x-frame-options": "SAMEORIGIN"})
    )
    response = sample_app.test_client().get("/framed")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert len(response.headers.getlist("Content-Security-Policy")) == 1


def test_errors_are_documented_as_problems(client: Any) -> None:
    spec = client.get("/openapi.json").json
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert list(default["content"]) == [PROBLEM_CONTENT_TYPE]
    schema = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "instance", "code", "request_id", "errors"} <= set(
        schema
    )
    unprocessable = spec["paths"]["/items"]["post"]["responses"]["422"]
    # flask-smorest names response components after the interpreter's http.HTTPStatus names.
    name = http.HTTPStatus(422).name
    assert unprocessable == {"$ref": f"#/components/responses/{name}"}


@pytest.mark.parametrize("code", [64, 91, 189, 10107, 11600])
def test_a_database_that_cannot_serve_now_is_503(client: Any, code: int) -> None:
    response = client.get(f"/items/database-refuses/{code}")
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["Retry-After"] == "2"


def test_a_database_refusing_what_the_service_sent_is_a_500(client: Any) -> None:
    assert_problem(client.get("/items/database-refuses/2"), 500, "internal_error")
