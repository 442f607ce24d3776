"""Test support: real servers (the dev database, gunicorn) and small HTTP helpers."""

import json
import sys
from collections.abc import Callable
from typing import Any

from flask import Flask

#: The type of the ``make_app`` fixture: ``make_app(create_app, **config_overrides) -> Flask``.
AppFactory = Callable[..., Flask]


def pytest_command(*targets: str) -> list[str]:
    """A child pytest run of ``targets`` (no cache, no coverage of its own)."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:cov",
        "-q",
        *targets,
    ]


class LogLines:
    """What factory_core's log handler wrote (``log_lines`` fixture), as text or parsed."""

    def __init__(self, read: Callable[[], str]) -> None:
        self._read = read
        self._text = ""

    def __call__(self) -> list[dict[str, Any]]:
        """Every line so far, parsed as JSON."""
        return [json.loads(line) for line in self.text().splitlines()]

    def text(self) -> str:
        self._text += self._read()
        return self._text
