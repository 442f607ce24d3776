"""Tracing's configuration and its joins to the logs, in process (tests/e2e/test_tracing.py
runs the services under gunicorn with tracing on)."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tests.support import AppFactory, LogLines
from tests.support.sample import create_sample

from factory_core import ConfigurationError
from factory_core.runtime import tracing
from factory_core.runtime.logs import configure_logging
from factory_core.runtime.tracing import exporter_names, in_background, redact_query


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({}, []),
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, []),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, ["otlp_proto_http"]),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            ["otlp_proto_grpc"],
        ),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"},
            ["otlp_proto_grpc"],
        ),
        ({"OTEL_TRACES_EXPORTER": "console, otlp"}, ["console", "otlp_proto_http"]),
    ],
)
def test_tracing_is_off_unless_an_exporter_is_named(
    environ: dict[str, str], names: list[str]
) -> None:
    assert exporter_names(environ) == names


def test_an_unknown_otlp_protocol_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="OTEL_EXPORTER_OTLP_PROTOCOL"):
        exporter_names({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "udp"})


def test_an_exporter_that_is_not_installed_stops_the_start(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "jaeger_thrift")
    with pytest.raises(ConfigurationError, match=r"'jaeger_thrift'.*installed: .*otlp_proto_http"):
        make_app(create_sample)


def test_log_lines_carry_the_active_span_ids(log_lines: LogLines) -> None:
    configure_logging("INFO", json_lines=True)
    tracer = TracerProvider().get_tracer(__name__)  # not the global provider
    logger = logging.getLogger("tests.tracing")
    logger.info("outside")
    with tracer.start_as_current_span("work") as span:
        logger.info("inside")
    outside, inside = log_lines()
    assert "trace_id" not in outside
    assert "span_id" not in outside
    context = span.get_span_context()
    assert inside["trace_id"] == f"{context.trace_id:032x}"
    assert inside["span_id"] == f"{context.span_id:016x}"


def _access_line(log_lines: LogLines) -> dict[str, Any]:
    [line] = [line for line in log_lines() if line["logger"] == "factory_core.access"]
    return line


def test_tracing_off_the_request_line_still_joins_the_callers_trace(
    log_lines: LogLines, make_app: AppFactory
) -> None:
    client: Any = make_app(create_sample).test_client()
    trace_id = secrets.token_hex(16)
    client.get("/openapi.json", headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"})
    assert _access_line(log_lines)["trace_id"] == trace_id


@pytest.mark.parametrize("traceparent", ["", "00-bad-value-01", f"00-{'0' * 32}-{'1' * 16}-01"])
def test_an_invalid_traceparent_is_left_out_of_the_log(
    log_lines: LogLines, make_app: AppFactory, traceparent: str
) -> None:
    client: Any = make_app(create_sample).test_client()
    client.get("/openapi.json", headers={"traceparent": traceparent})
    assert "trace_id" not in _access_line(log_lines)


def test_background_work_is_not_sampled_nor_logged_as_a_trace(log_lines: LogLines) -> None:
    configure_logging("INFO", json_lines=True)
    tracer = TracerProvider().get_tracer(__name__)  # the default sampler: parent-based
    logger = logging.getLogger("tests.tracing")
    seen: dict[str, Any] = {}

    def poll() -> None:
        in_background()
        with tracer.start_as_current_span("poll") as span:
            seen["recording"] = span.is_recording()
            seen["flags"] = span.get_span_context().trace_flags
            logger.info("polled")

    thread = threading.Thread(target=poll)
    thread.start()
    thread.join()
    assert seen == {"recording": False, "flags": 0}
    [line] = log_lines()
    assert line["message"] == "polled"
    assert "trace_id" not in line
    with tracer.start_as_current_span("request") as span:  # other threads are untouched
        assert span.is_recording()


@pytest.mark.parametrize(
    ("query", "redacted"),
    [
        ("token=s3cret", "token=REDACTED"),
        ("a=1&Token=s3cret&b=", "a=1&Token=REDACTED&b="),
        ("page=2&page_size=20", "page=2&page_size=20"),
        ("", ""),
    ],
)
def test_secrets_in_a_query_string_are_redacted(query: str, redacted: str) -> None:
    assert redact_query(query) == redacted


def test_stop_tracing_exports_the_spans_still_in_the_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What a leaving worker calls before os._exit (factory_core.runtime.lifecycle.exit_worker).
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=600_000))
    monkeypatch.setattr(tracing, "_started", (os.getpid(), provider))
    with provider.get_tracer(__name__).start_as_current_span("the last request"):
        pass
    assert exporter.get_finished_spans() == ()  # still in the batch
    tracing.stop_tracing()
    assert [span.name for span in exporter.get_finished_spans()] == ["the last request"]


def test_stop_tracing_leaves_a_parents_provider_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = TracerProvider()
    monkeypatch.setattr(tracing, "_started", (os.getppid(), provider))  # set before a fork
    tracing.stop_tracing()
    with provider.get_tracer(__name__).start_as_current_span("still traced") as span:
        assert span.is_recording()  # a provider that was shut down records nothing
