"""An app whose migrations are tests/support/counted_migrations (``flask --app`` loads it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from factory_core import build_app
from tests.support.sample import SampleSettings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    return build_app(
        __name__,
        settings=SampleSettings,
        env_prefix="SAMPLE",
        blueprints=[],
        overrides=config,
        migrations="tests.support.counted_migrations",
    )
