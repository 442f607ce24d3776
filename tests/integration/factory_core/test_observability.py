"""Request ids, one JSON log line per request, Prometheus metrics."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import pytest
from flask import Flask
from tests.support import AppFactory, LogLines
from tests.support.sample import create_sample, make_token


def _access_lines(log_lines: LogLines) -> list[dict[str, Any]]:
    return [line for line in log_lines() if line.get("logger") == "factory_core.access"]


def test_request_id_is_generated_and_echoed(client: Any) -> None:
    first = client.get("/livez").headers["X-Request-ID"]
    second = client.get("/livez").headers["X-Request-ID"]
    assert len(first) == 32
    assert first != second


def test_client_request_id_is_kept_when_safe(client: Any) -> None:
    response = client.get("/livez", headers={"X-Request-ID": "trace-abc.123"})
    assert response.headers["X-Request-ID"] == "trace-abc.123"


@pytest.mark.parametrize("unsafe", ["a" * 129, "bad id with spaces", "x\u00e9y", "<script>"])
def test_unsafe_request_id_is_replaced(client: Any, unsafe: str) -> None:
    response = client.get("/nowhere", headers={"X-Request-ID": unsafe})
    assert response.headers["X-Request-ID"] != unsafe
    assert response.json["request_id"] == response.headers["X-Request-ID"]


def test_one_log_line_per_request_with_user_and_no_secrets(
    client: Any, log_lines: LogLines
) -> None:
    token = make_token(sub="user-42")
    response = client.get(
        "/items/mine?password=hunter2",  # an argument no operation takes: a 422
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-1"},
    )
    assert response.status_code == 422
    [line] = _access_lines(log_lines)
    assert line["request_id"] == "req-1"
    assert line["method"] == "GET"
    assert line["path"] == "/items/mine"
    assert line["route"] == "/items/mine"
    assert line["status"] == 422
    assert line["user_id"] == "user-42"
    assert line["remote_addr"] == "127.0.0.1"
    assert 0 <= line["duration_ms"] < 60_000
    assert "trace_id" not in line  # no span, no traceparent
    assert token not in str(line)
    assert "hunter2" not in str(line)


def test_log_lines_are_json_in_one_shape(client: Any, log_lines: LogLines) -> None:
    client.get("/openapi.json", headers={"X-Request-ID": "json-line"})
    try:
        raise ValueError("the detail")
    except ValueError:
        logging.getLogger("tests.observability").exception("it failed", extra={"item": 7})
    access, failure = log_lines()[-2:]
    assert access["level"] == "INFO"
    assert access["logger"] == "factory_core.access"
    assert access["message"] == "request"
    assert access["request_id"] == "json-line"
    assert access["status"] == 200
    assert access["time"].endswith("Z")
    # The same shape through logging (libraries, the services' own loggers).
    assert failure["level"] == "ERROR"
    assert failure["logger"] == "tests.observability"
    assert failure["message"] == "it failed"
    assert failure["item"] == 7
    assert failure["exception"].startswith("Traceback (most recent call last):")
    assert failure["exception"].endswith("ValueError: the detail")
    assert failure["time"].endswith("Z")


def test_plain_text_lines_when_json_is_off(log_lines: LogLines, make_app: AppFactory) -> None:
    client = make_app(create_sample, LOG_JSON=False).test_client()
    client.get("/openapi.json", headers={"X-Request-ID": "plain-line"})
    logging.getLogger("tests.observability").warning("careful, %s", "now")
    text = log_lines.text()
    assert not any(line.startswith("{") for line in text.splitlines())
    assert "[INFO     ] request" in text
    assert "[factory_core.access]" in text
    assert "request_id=plain-line" in text
    assert "[WARNING  ] careful, now" in text


@pytest.mark.parametrize("setting", [{"ACCESS_LOG": False}, {"LOG_LEVEL": "WARNING"}])
def test_the_access_line_can_be_turned_off(
    log_lines: LogLines, make_app: AppFactory, setting: dict[str, Any]
) -> None:
    app: Flask = make_app(create_sample, **setting)
    client = app.test_client()
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.headers["X-Request-ID"]
    assert _access_lines(log_lines) == []
    logging.getLogger("tests.observability").warning("still logged")
    assert log_lines()[-1]["message"] == "still logged"
    text = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{method="GET",route="/livez",service="sample",status="200"}' in text


def test_access_line_follows_the_loggers_level(client: Any, log_lines: LogLines) -> None:
    access = logging.getLogger("factory_core.access")
    access.setLevel(logging.WARNING)
    try:
        client.get("/openapi.json")
    finally:
        access.setLevel(logging.NOTSET)
    client.get("/openapi.json")
    assert len(_access_lines(log_lines)) == 1


def test_probes_and_polls_are_logged_at_debug(client: Any, log_lines: LogLines) -> None:
    """ACCESS_LOG_QUIET_ROUTES: many a minute, and never what a person looks for."""
    client.get("/livez")
    client.get("/readyz")
    client.get("/metrics")
    assert _access_lines(log_lines) == []
    logging.getLogger("factory_core.access").setLevel(logging.DEBUG)
    try:
        client.get("/livez")
    finally:
        logging.getLogger("factory_core.access").setLevel(logging.NOTSET)
    [line] = _access_lines(log_lines)
    assert (line["route"], line["level"]) == ("/livez", "DEBUG")


def test_metrics_count_requests_by_route_template(client: Any) -> None:
    client.get("/items/mine")
    client.get("/nowhere/at/all")
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'http_requests_total{method="GET",route="/items/mine",service="sample",status="401"}'
        in text
    )
    assert 'route="<unmatched>"' in text
    assert "/nowhere/at/all" not in text
    assert "http_request_duration_seconds_bucket" in text


def test_client_chosen_methods_add_no_time_series(client: Any) -> None:
    methods = [f"X{secrets.token_hex(4).upper()}" for _ in range(5)]
    for method in methods:
        assert client.open("/items/mine", method=method).status_code == 405
    text = client.get("/metrics").get_data(as_text=True)
    assert not any(method in text for method in methods)
    other = 'http_requests_total{method="OTHER",route="<unmatched>",service="sample",status="405"}'
    assert f"{other} 5.0" in text
