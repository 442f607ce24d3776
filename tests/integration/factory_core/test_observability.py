"""Request ids, one JSON log line per request, Prometheus metrics."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from tests.support.sample import make_token


def _access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "factory_core.access"]


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
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="factory_core.access")
    token = make_token(sub="user-42")
    client.get(
        "/items/mine?password=hunter2",
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-1"},
    )
    [record] = _access_records(caplog)
    fields = record.__dict__
    assert fields["request_id"] == "req-1"
    assert fields["method"] == "GET"
    assert fields["path"] == "/items/mine"
    assert fields["route"] == "/items/mine"
    assert fields["status"] == 200
    assert fields["user_id"] == "user-42"
    assert fields["duration_ms"] >= 0
    serialized = json.dumps({k: str(v) for k, v in fields.items()})
    assert token not in serialized
    assert "hunter2" not in serialized


def test_log_lines_are_json(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="factory_core.access")
    client.get("/livez", headers={"X-Request-ID": "json-line"})
    [record] = _access_records(caplog)
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "_factory_core", False)]
    line = json.loads(handler.format(record))
    assert line["level"] == "INFO"
    assert line["logger"] == "factory_core.access"
    assert line["message"] == "request"
    assert line["request_id"] == "json-line"
    assert line["status"] == 200
    assert line["time"].endswith("+00:00")


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
