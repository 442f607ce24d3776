"""A worker process's life: its warm-up before the first request, its loops, its end."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask

from factory_core.data.mongo import EXTENSION_KEY as MONGO_KEY
from factory_core.data.mongo import mongo

if TYPE_CHECKING:
    from factory_core.runtime.background import PerProcessLoop

logger = logging.getLogger(__name__)

STARTERS_KEY = "factory_core.lifecycle.start"
LOOPS_KEY = "factory_core.lifecycle.loops"
STOPPERS_KEY = "factory_core.lifecycle.stop"
#: The process that ran the app's starters (a forked child runs them again).
STARTED_KEY = "factory_core.lifecycle.started"
#: What a leaving worker does last, for the whole process (tracing's exporter, say).
_at_worker_exit: list[Callable[[], object]] = []

# Set when a server loads apps in a process it then forks into workers, and calls start() in
# each (factory_core.runtime.gunicorn_config). What must not cross a fork then waits for start().
_deferred = False


def defer_to_workers() -> None:
    """Declare that this process's apps are served by forked workers that each call start()."""
    global _deferred  # noqa: PLW0603 (a fact about the process)
    _deferred = True


def deferred_to_workers() -> bool:
    """Whether per-process resources wait for start() (see defer_to_workers), else start now."""
    return _deferred


def at_worker_exit(finish: Callable[[], object]) -> None:
    """Call ``finish`` as this process's worker leaves (see :func:`exit_worker`), once."""
    if finish not in _at_worker_exit:
        _at_worker_exit.append(finish)


def init_lifecycle(app: Flask) -> None:
    """Start the app's background loops at the first request of a process that did not boot
    as a gunicorn worker (another server, the test client): never in that request's way."""

    def start_once() -> None:
        if app.extensions.get(STARTED_KEY) != os.getpid():
            app.extensions[STARTED_KEY] = os.getpid()
            for loop in app.extensions.get(LOOPS_KEY, ()):
                loop.ensure_started()

    app.before_request(start_once)


def on_start(app: Flask, start: Callable[[], object]) -> None:
    """Call ``start`` as a worker process boots (see :func:`start`): a warm-up, so that no
    request waits for it (without gunicorn, each piece starts when first needed)."""
    app.extensions.setdefault(STARTERS_KEY, []).append(start)


def keep_running(app: Flask, loop: PerProcessLoop) -> None:
    """Run ``loop`` in each process that serves the app: started as a worker boots, or at a
    process's first request, and stopped (between rounds) when the app shuts down."""
    app.extensions.setdefault(LOOPS_KEY, []).append(loop)
    on_shutdown(app, loop.stop)


def on_shutdown(app: Flask, stop: Callable[[], None]) -> None:
    """Call ``stop`` when the app shuts down (see :func:`shutdown`)."""
    app.extensions.setdefault(STOPPERS_KEY, []).append(stop)


def start(app: Any) -> None:
    """Get this process ready to serve: each starter in turn, none allowed to stop the others.

    A starter that fails (the database is down) leaves that piece to start at the first
    request that needs it, as it would without this.
    """
    extensions = getattr(app, "extensions", None)
    if not isinstance(extensions, dict):
        return  # not a factory_core app (a WSGI middleware, another framework)
    extensions[STARTED_KEY] = os.getpid()
    started = time.perf_counter()
    with app.app_context():
        loops = extensions.get(LOOPS_KEY, ())
        for loop in loops:
            loop.adopt()  # before a starter fills its state (the revocation feed's first read)
        for starter in [
            *extensions.get(STARTERS_KEY, ()),
            *(loop.ensure_started for loop in loops),
        ]:
            try:
                starter()
            except Exception as error:  # e.g. a database or issuer that is not up yet
                logger.info("warm-up step %s left for later: %s", _name(starter), error)
    logger.info("warmed up in %.0f ms", (time.perf_counter() - started) * 1000)


def shutdown(app: Flask) -> None:
    """Stop the app's background threads, then close its database client."""
    for stop in app.extensions.get(STOPPERS_KEY, ()):
        stop()
    if MONGO_KEY in app.extensions:
        mongo.close(app)


def exit_worker(app: Any) -> None:
    """End a worker process that is leaving normally, now: its app shut down, its spans and
    log lines written, then ``os._exit(0)``.

    For gunicorn's worker_exit hook (factory_core.runtime.gunicorn_config), which runs as a worker
    leaves: recycled after max_requests, or stopped by SIGTERM. The interpreter's own exit
    would then wait ~0.5 s for pymongo's monitor threads to wake from their sleeps (its
    atexit hook joins them), and all that time the worker serves nothing while gunicorn waits
    for it to end before it starts the replacement. A forked child that has finished its work
    ends with os._exit, as multiprocessing's children do. A worker leaving for any other
    reason (a failed boot: gunicorn reads its exit status) is left to the interpreter.

    The shutdown lets a background round in progress finish (a mail being delivered, a batch
    of events), as a graceful stop should: usually nothing is in progress and it takes a
    millisecond. gunicorn's threaded worker reaches this once its requests in flight are
    answered, or its graceful timeout is over: requests still running then end with the process.
    """
    leaving = sys.exc_info()[1]  # the SystemExit gunicorn's worker is raising, if any
    if not isinstance(leaving, SystemExit) or leaving.code not in (0, None):
        return
    started = time.perf_counter()
    if isinstance(getattr(app, "extensions", None), dict):
        shutdown(app)  # background loops stopped between rounds, the database client closed
    for finish in _at_worker_exit:  # the spans still in the batch, for one
        finish()
    logger.info("shut down in %.0f ms, exiting", (time.perf_counter() - started) * 1000)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _name(function: Callable[[], object]) -> str:
    return str(getattr(function, "__qualname__", function))
