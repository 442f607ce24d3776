"""OpenTelemetry tracing, on only when the standard ``OTEL_*`` variables say so
(docs/operations.md#traces-opentelemetry)."""

from __future__ import annotations

import logging
import os
import secrets
import urllib.parse
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from flask import Flask, request
from opentelemetry import context, trace
from werkzeug.datastructures import Headers

from factory_core.runtime.config import ConfigurationError
from factory_core.runtime.lifecycle import at_worker_exit, deferred_to_workers, on_start

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

logger = logging.getLogger(__name__)

#: Query parameters whose values never reach a span: the tokens of mailed links, and the like.
SECRET_QUERY_PARAMETERS = frozenset(
    {"token", "access_token", "refresh_token", "id_token", "code", "password", "secret", "key"}
)
#: Probes and scrapes: many a minute, and never what someone follows a trace for.
DEFAULT_EXCLUDED_URLS = r"/livez(\?|$),/readyz(\?|$),/metrics(\?|$)"
_EXPORTER_ENTRY_POINTS = "opentelemetry_traces_exporter"
# The OTLP exporter this package installs; "otlp" means it unless the protocol says grpc.
_OTLP_BY_PROTOCOL = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}

#: The process that set its tracer provider, and that provider (a forked worker sets its own).
_started: tuple[int, TracerProvider] | None = None


def exporter_names(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The exporters the environment asks for; none means tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [name.strip() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",")]
    names = [name for name in names if name and name.lower() != "none"]
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if "otlp" in names and protocol not in _OTLP_BY_PROTOCOL:
        raise ConfigurationError(f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} is not OTLP")
    return [_OTLP_BY_PROTOCOL[protocol] if name == "otlp" else name for name in names]


def init_tracing(app: Flask) -> None:
    """Instrument ``app`` (Flask, pymongo, urllib) when the environment turns tracing on."""
    names = exporter_names()
    if not names:
        return
    # Fail at startup, not in a worker: every named exporter must be installed.
    exporters = [_exporter_class(name) for name in names]
    from opentelemetry.instrumentation.flask import FlaskInstrumentor  # noqa: PLC0415
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor  # noqa: PLC0415
    from opentelemetry.instrumentation.urllib import URLLibInstrumentor  # noqa: PLC0415

    # The stable HTTP and database conventions (url.full, http.response.status_code,
    # db.system.name, ...), not the instrumentations' older default names; read at instrument.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http,database")
    excluded = os.environ.get("OTEL_PYTHON_FLASK_EXCLUDED_URLS", DEFAULT_EXCLUDED_URLS)
    FlaskInstrumentor().instrument_app(  # type: ignore[no-untyped-call]
        app, excluded_urls=excluded, response_hook=_redact_query
    )
    # Process-wide: a listener for MongoClients created from now on (each worker creates its
    # own after the fork), and urllib's opener.
    for instrumentor in (PymongoInstrumentor(), URLLibInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()

    service = app.config["SERVICE_NAME"]

    def start() -> None:
        start_tracing(service, exporters)

    on_start(app, start)
    if not deferred_to_workers():
        start()


def start_tracing(service: str, exporters: list[type[SpanExporter]]) -> None:
    """Set this process's tracer provider, exporting in batches; once per process."""
    global _started  # noqa: PLW0603 (one provider per process, as OpenTelemetry's API has it)
    if _started is not None and _started[0] == os.getpid():
        return
    from opentelemetry.sdk.resources import PROCESS_PID, SERVICE_NAME, Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, and which worker sent the spans.
    resource = Resource.create({PROCESS_PID: os.getpid()})
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service}))
    provider = TracerProvider(resource=resource)  # the sampler from OTEL_TRACES_SAMPLER
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter()))
    trace.set_tracer_provider(provider)
    _started = (os.getpid(), provider)
    # The SDK's atexit hook would export what is left in the batch; a worker skips atexit.
    at_worker_exit(stop_tracing)
    logger.info("tracing on: %s", ", ".join(exporter.__name__ for exporter in exporters))


def stop_tracing() -> None:
    """Export the spans this process still holds and stop its exporters (a worker leaving)."""
    if _started is not None and _started[0] == os.getpid():
        _started[1].shutdown()


def _exporter_class(name: str) -> type[SpanExporter]:
    found = entry_points(group=_EXPORTER_ENTRY_POINTS, name=name)
    if not found:
        installed = sorted(point.name for point in entry_points(group=_EXPORTER_ENTRY_POINTS))
        raise ConfigurationError(
            f"OTEL_TRACES_EXPORTER names {name!r}, and no installed package provides it "
            f"(installed: {', '.join(installed)})"
        )
    exporter: type[SpanExporter] = next(iter(found)).load()
    return exporter


def redact_query(query: str) -> str:
    """``query`` with the values of secret-bearing parameters (a link's token) replaced."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    if not any(name.lower() in SECRET_QUERY_PARAMETERS for name, _ in pairs):
        return query
    return urllib.parse.urlencode(
        [
            (name, "REDACTED" if name.lower() in SECRET_QUERY_PARAMETERS else value)
            for name, value in pairs
        ]
    )


def _redact_query(span: trace.Span, _status: str, _headers: object) -> None:
    """The Flask instrumentation's response hook: no secret of the query string in the span."""
    query = request.query_string.decode("latin-1")
    if not query or not span.is_recording():
        return
    redacted = redact_query(query)
    if redacted != query:
        span.set_attribute("url.query", redacted)
        opted_in = os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "").split(",")
        if "http" not in {mode.strip() for mode in opted_in}:  # the older names too
            span.set_attribute("http.target", f"{request.path}?{redacted}")


def in_background() -> None:
    """Mark the calling thread's work (a feed's poller, a consumer) as background work: not
    sampled under the default parent-based sampler, nor what it calls."""
    unsampled = trace.SpanContext(
        trace_id=secrets.randbits(128) or 1,
        span_id=secrets.randbits(64) or 1,
        is_remote=False,
        trace_flags=trace.TraceFlags(trace.TraceFlags.DEFAULT),
    )
    context.attach(trace.set_span_in_context(trace.NonRecordingSpan(unsampled)))


def caller_trace_id(headers: Headers) -> str | None:
    """The trace id of the caller's ``traceparent``, if it sent a valid one."""
    from opentelemetry.propagate import extract  # noqa: PLC0415

    context = trace.get_current_span(extract(headers)).get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None
