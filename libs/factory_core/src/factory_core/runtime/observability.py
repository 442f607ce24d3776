"""Request ids, one structured log line per request (joined to traces), and Prometheus metrics."""

from __future__ import annotations

import functools
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, g, request
from opentelemetry import trace

from factory_core.runtime.logs import AccessLog, configure_logging
from factory_core.runtime.tracing import caller_trace_id
from factory_core.trust.tokens import current_claims

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

# prometheus_client is imported inside functions on purpose: it picks single- or multi-process
# storage when first imported, and gunicorn's master imports this package (for its config)
# before on_starting sets PROMETHEUS_MULTIPROC_DIR. Importing it here would fix the wrong one.

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_KEY = "HTTP_X_REQUEST_ID"  # its WSGI environ key
# A client-sent id is kept only if it is short and harmless in logs and headers.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

logger = logging.getLogger(__name__)
SOURCES_KEY = "factory_core.metrics_sources"


@functools.cache
def _metrics() -> tuple[Counter, Histogram]:
    """The request metrics, created once per process (never at import)."""
    from prometheus_client import Counter, Histogram  # noqa: PLC0415

    requests = Counter(
        "http_requests_total",
        "HTTP requests handled.",
        ["service", "method", "route", "status"],
    )
    duration = Histogram(
        "http_request_duration_seconds",
        "Time spent handling HTTP requests.",
        ["service", "method", "route"],
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    )
    return requests, duration


def _start_request() -> None:
    # Read from the WSGI environ: a header lookup that misses (the usual case for both) costs
    # Werkzeug an exception, on every request.
    environ = request.environ
    incoming = environ.get(_REQUEST_ID_KEY, "")
    g.request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()
    # Tracing off, the request's log line still joins the caller's trace (tracing on, the
    # server span continues it, and every line gets its ids from there).
    if "HTTP_TRACEPARENT" in environ and not trace.get_current_span().is_recording():
        g.caller_trace_id = caller_trace_id(request.headers)


def _user_id() -> str | None:
    """The subject of the token verified for this request, if one was."""
    try:
        claims = current_claims()
    except RuntimeError:  # no token was verified (a public route, or a refused token)
        return None
    return str(claims["sub"]) if "sub" in claims else None


def _finish_request(
    response: Response, service: str, access: AccessLog | None, quiet: frozenset[str]
) -> Response:
    # The objects behind Flask's proxies, looked up once (this runs on every request).
    state, current = g._get_current_object(), request._get_current_object()  # type: ignore[attr-defined]
    request_id = state.get("request_id", "")
    response.headers[REQUEST_ID_HEADER] = request_id
    duration = time.perf_counter() - state.get("request_started", time.perf_counter())
    # The route template, not the raw path, keeps metric cardinality bounded.
    route = current.url_rule.rule if current.url_rule else "<unmatched>"
    method, status = current.method, response.status_code
    requests, histogram = _metric_children(service, method, route, status)
    requests.inc()
    histogram.observe(duration)
    if access is None:
        return response
    fields = {
        "request_id": request_id,
        "method": method,
        "path": current.path,
        "route": route,
        "status": status,
        "duration_ms": round(duration * 1000, 2),
        "user_id": _user_id(),
        "remote_addr": current.remote_addr,
    }
    caller_trace = state.get("caller_trace_id")
    if caller_trace:
        fields["trace_id"] = caller_trace
    access.write(fields, quiet=route in quiet)
    return response


# Methods outside HTTP's own are counted together: a client choosing the method must not be
# able to add a time series per request (the access line still names the method it sent).
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@functools.lru_cache(maxsize=4096)
def _metric_children(service: str, method: str, route: str, status: int) -> tuple[Any, Any]:
    """The counter and histogram of one label set, looked up once rather than per request."""
    requests, histogram = _metrics()
    method = method if method in _METHODS else "OTHER"
    return (
        requests.labels(service, method, route, str(status)),
        histogram.labels(service, method, route),
    )


def metrics_response() -> Response:
    """Exposition of this process's metrics, or all workers' under gunicorn's multiprocess mode."""
    from prometheus_client import (  # noqa: PLC0415
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        payload = generate_latest(registry)
    else:
        payload = generate_latest(REGISTRY)
    # Metrics read when scraped (from the database, for one), the same from any worker.
    sources = current_app.extensions.get(SOURCES_KEY, [])
    if sources:
        extra = CollectorRegistry()
        extra.register(_Sources(sources))
        payload += generate_latest(extra)
    return Response(payload, content_type=CONTENT_TYPE_LATEST)


def add_metrics_source(app: Flask, collect: Callable[[], Iterable[Any]]) -> None:
    """Add the metric families ``collect()`` returns to every /metrics answer."""
    app.extensions.setdefault(SOURCES_KEY, []).append(collect)


class _Sources:
    """A prometheus_client collector of the app's metrics sources."""

    def __init__(self, sources: list[Callable[[], Iterable[Any]]]) -> None:
        self.sources = sources

    def collect(self) -> Iterable[Any]:
        for collect in self.sources:
            try:
                yield from collect()
            except Exception:  # a source that cannot answer now leaves its metrics out
                logger.warning("a metrics source failed", exc_info=True)


def init_observability(app: Flask) -> None:
    """Bind request ids, access logging and metrics to ``app``."""
    json_lines = app.config["LOG_JSON"]
    handler = configure_logging(app.config["LOG_LEVEL"], json_lines=json_lines)
    access = AccessLog(handler, json_lines=json_lines) if app.config["ACCESS_LOG"] else None
    service = app.config["SERVICE_NAME"]
    quiet = frozenset(app.config["ACCESS_LOG_QUIET_ROUTES"])
    _metrics()
    app.before_request(_start_request)
    app.after_request(lambda response: _finish_request(response, service, access, quiet))
    app.add_url_rule("/metrics", "metrics", metrics_response, methods=["GET"])
