"""Test support: real servers (the dev database, gunicorn) and small HTTP helpers."""

import sys
from collections.abc import Callable

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
