"""Test support: real servers (the dev database, gunicorn) and small HTTP helpers."""

from collections.abc import Callable

from flask import Flask

#: The type of the ``make_app`` fixture: ``make_app(create_app, **config_overrides) -> Flask``.
AppFactory = Callable[..., Flask]
