"""Worker warm-up and exit (factory_core.runtime.lifecycle): best effort, step by step."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest
from flask import Flask

from factory_core.runtime import lifecycle
from factory_core.runtime.background import PerProcessLoop


def test_start_ignores_an_app_that_is_not_a_flask_one() -> None:
    lifecycle.start(object())  # a WSGI middleware: nothing to warm up, nothing raised


def test_a_failing_warm_up_step_does_not_stop_the_others() -> None:
    app = Flask(__name__)
    done: list[str] = []

    def broken() -> None:
        raise ConnectionError("the database is not up yet")

    lifecycle.on_start(app, broken)
    lifecycle.on_start(app, lambda: done.append("keys"))
    lifecycle.start(app)
    assert done == ["keys"]


class _Warmable(PerProcessLoop):
    """A loop whose per-process state a warm-up step fills (as the revocation feed's read)."""

    thread_name = "test-warmable"

    def reset(self) -> None:
        self.warmed = False

    def round(self) -> float:
        return 60.0

    def warm_up(self) -> None:
        self.warmed = True


def test_what_a_warm_up_step_gives_a_loop_in_a_forked_worker_is_kept() -> None:
    # Made in the parent, as under gunicorn's preload; warmed up in the forked worker. The
    # loop's state was reset for the new process after the step had filled it (the revocation
    # feed's boot read thrown away: every worker started stale).
    app = Flask(__name__)
    loop = _Warmable()
    lifecycle.keep_running(app, loop)
    lifecycle.on_start(app, loop.warm_up)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            lifecycle.start(app)
            os.write(write, b"warm" if loop.warmed else b"cold")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as answer:
        assert answer.read() == b"warm"


class _ExitedError(Exception):
    """Raised by the test's os._exit in place of ending the test process."""


def _leaving(app: object, code: int | None) -> None:
    """exit_worker as gunicorn calls it: in the worker's finally, a SystemExit in flight."""
    try:
        raise SystemExit(code)
    finally:
        lifecycle.exit_worker(app)


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What a leaving worker did, in order; the process's own spans and logs are left alone."""
    done: list[str] = []

    def _exit(code: int) -> NoReturn:
        done.append(f"exit {code}")
        raise _ExitedError

    monkeypatch.setattr(lifecycle.os, "_exit", _exit)
    # What tracing registers when it starts (its exporter's last batch).
    monkeypatch.setattr(lifecycle, "_at_worker_exit", [lambda: done.append("spans exported")])
    monkeypatch.setattr(lifecycle.logging, "shutdown", lambda: done.append("logs flushed"))
    return done


@pytest.mark.parametrize("code", [0, None])
def test_a_worker_leaving_normally_stops_its_app_then_ends_at_once(
    exits: list[str], code: int | None
) -> None:
    app = Flask(__name__)
    lifecycle.on_shutdown(app, lambda: exits.append("consumer stopped"))
    with pytest.raises(_ExitedError):
        _leaving(app, code)
    assert exits == ["consumer stopped", "spans exported", "logs flushed", "exit 0"]


def test_a_worker_leaving_with_an_error_status_is_left_to_the_interpreter(
    exits: list[str],
) -> None:
    # gunicorn reads the status: 3 (a failed boot) makes the master stop.
    app = Flask(__name__)
    lifecycle.on_shutdown(app, lambda: exits.append("consumer stopped"))
    with pytest.raises(SystemExit) as leaving:
        _leaving(app, 3)
    assert leaving.value.code == 3
    assert exits == []


def test_exit_worker_does_nothing_unless_the_worker_is_leaving(exits: list[str]) -> None:
    lifecycle.exit_worker(Flask(__name__))
    assert exits == []


def test_a_leaving_worker_that_serves_no_flask_app_still_ends_at_once(exits: list[str]) -> None:
    with pytest.raises(_ExitedError):
        _leaving(object(), 0)  # a WSGI middleware: nothing to shut down
    assert exits == ["spans exported", "logs flushed", "exit 0"]
