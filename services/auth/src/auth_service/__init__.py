"""The auth service: accounts, passwords and asymmetric JWTs other services verify offline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from auth_service.cli import create_admin
from auth_service.passwords import passwords
from auth_service.ratelimit import rate_limits
from auth_service.recovery import RENDERERS
from auth_service.routes import blueprints
from auth_service.routes.feeds import FEED_SCHEME
from auth_service.settings import AuthSettings
from auth_service.tokens import tokens
from factory_core import Api, build_app, mail


def _setup(app: Flask, api: Api) -> None:
    """Bind this service's own extensions: keys and JWT, password hashing, rate limits, mail."""
    tokens.init_app(app)
    passwords.init_app(app)
    rate_limits.init_app(app)
    mail.init_app(app, renderers=RENDERERS)
    api.spec.components.security_scheme(
        FEED_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "The shared service secret FEED_TOKEN (both feeds): opaque, not a "
            "JWT, and never an access or refresh token.",
        },
    )
    app.cli.add_command(create_admin)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the auth app; ``config`` overrides every other source (tests use it)."""
    return build_app(
        __name__,
        settings=AuthSettings,
        env_prefix="AUTH",
        blueprints=blueprints,
        overrides=config,
        setup=_setup,
        migrations="auth_service.migrations",
    )
