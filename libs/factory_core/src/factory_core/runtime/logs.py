"""Log lines in one shape, rendered by structlog: JSON lines by default, plain text for people
(the access line skips ``logging``: docs/operations.md)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor

ACCESS_LOGGER = "factory_core.access"
_HANDLER_MARK = "_factory_core"


def _level(_logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    # structlog names levels by method ("info"); these lines have always said "INFO".
    event_dict["level"] = "WARNING" if method_name == "warn" else method_name.upper()
    return event_dict


def _trace_ids(_logger: Any, _method_name: str, event_dict: EventDict) -> EventDict:
    """The sampled span's ``trace_id`` and ``span_id`` (W3C hex), when one is active."""
    span = trace.get_current_span().get_span_context()
    if span.is_valid and span.trace_flags.sampled:
        event_dict["trace_id"] = trace.format_trace_id(span.trace_id)
        event_dict["span_id"] = trace.format_span_id(span.span_id)
    return event_dict


def _shape(*, json_lines: bool) -> list[Processor]:
    """The processors every line goes through, last the renderer."""
    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True, key="time")
    if json_lines:
        return [
            stamp,
            _level,
            _trace_ids,
            structlog.processors.EventRenamer("message"),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    return [
        stamp,
        _level,
        _trace_ids,
        structlog.dev.ConsoleRenderer(
            # For a person at a terminal (make run asks for colours: its output is a pipe).
            colors="NO_COLOR" not in os.environ
            and (bool(os.environ.get("FORCE_COLOR")) or sys.stderr.isatty()),
            timestamp_key="time",
            # Plain tracebacks: rich's (the default when it is installed) print locals.
            exception_formatter=structlog.dev.plain_traceback,
        ),
    ]


def log_handler() -> logging.StreamHandler[TextIO] | None:
    """The root handler ``configure_logging`` installed, if it did."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and getattr(handler, _HANDLER_MARK, False):
            return handler
    return None


def configure_logging(
    level: str, *, json_lines: bool, stream: TextIO | None = None
) -> logging.StreamHandler[TextIO]:
    """Route ``logging`` to one handler in the shared shape, at ``level``, writing to ``stream``
    (given or set before, else stderr); idempotent. The access line shares its stream."""
    root = logging.getLogger()
    handler = log_handler()
    if handler is None:
        handler = logging.StreamHandler(stream or sys.stderr)
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    elif stream is not None:
        handler.setStream(stream)
    *processors, renderer = _shape(json_lines=json_lines)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *processors,
                renderer,
            ],
        )
    )
    root.setLevel(level)
    return handler


class _HandlerStream:
    """structlog's output for the access line: the stream ``logging``'s handler has now, under
    its lock (lines from both paths never interleave)."""

    def __init__(self, handler: logging.StreamHandler[TextIO]) -> None:
        self._handler = handler

    def msg(self, message: str) -> None:
        handler = self._handler
        with handler.lock:  # type: ignore[union-attr]  # created with the handler
            handler.stream.write(message + "\n")
            handler.stream.flush()

    info = debug = msg


class AccessLog:
    """Writes the access line while the ``factory_core.access`` logger takes INFO (LOG_LEVEL or
    that logger's own level, read on every line, silences it)."""

    def __init__(self, handler: logging.StreamHandler[TextIO], *, json_lines: bool) -> None:
        self._logger = logging.getLogger(ACCESS_LOGGER)  # for its level
        self._log = structlog.wrap_logger(
            _HandlerStream(handler),
            processors=_shape(json_lines=json_lines),
            wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
        ).bind(logger=ACCESS_LOGGER)

    def write(self, fields: Mapping[str, Any], *, quiet: bool = False) -> None:
        """The line at INFO, or at DEBUG when ``quiet`` (a probe, a poll by another service)."""
        if self._logger.isEnabledFor(logging.DEBUG if quiet else logging.INFO):
            (self._log.debug if quiet else self._log.info)("request", **fields)
