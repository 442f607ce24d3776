"""Worker warm-up (factory_core.lifecycle): best effort, step by step."""

from __future__ import annotations

from flask import Flask

from factory_core import lifecycle


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
