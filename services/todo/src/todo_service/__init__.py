"""The todo service: create_app composes factory_core with this service's blueprints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from factory_core import build_app
from todo_service.settings import TodoSettings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the todo app; ``config`` overrides every other source (tests use it)."""
    return build_app(
        __name__,
        settings=TodoSettings,
        env_prefix="TODO",
        blueprints=[],
        overrides=config,
    )
