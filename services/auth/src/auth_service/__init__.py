"""The auth service: create_app composes factory_core with this service's blueprints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from auth_service.settings import AuthSettings
from factory_core import build_app


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the auth app; ``config`` overrides every other source (tests use it)."""
    return build_app(
        __name__,
        settings=AuthSettings,
        env_prefix="AUTH",
        blueprints=[],
        overrides=config,
    )
