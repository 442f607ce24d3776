"""The todo service: create_app composes factory_core with this service's blueprints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from factory_core import Api, build_app, event_consumer, revocation_bound, trust_issuer
from todo_service.accounts import erase_account
from todo_service.routes import blp as todos_blp
from todo_service.settings import TodoSettings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the todo app; ``config`` overrides every other source (tests use it)."""
    return build_app(
        __name__,
        settings=TodoSettings,
        env_prefix="TODO",
        blueprints=[todos_blp],
        overrides=config,
        setup=_setup,
        migrations="todo_service.migrations",
    )


def _setup(app: Flask, _api: Api) -> None:
    """Trust auth's tokens (keys and revocations), erase deleted accounts."""
    trust_issuer.init_app(app)
    # A deleted account's tokens are still accepted here until the revocation feed says so:
    # erasing again once none can be erases what they wrote meanwhile.
    event_consumer.init_app(
        app,
        handlers={"account.deleted": erase_account},
        repeat_after={"account.deleted": revocation_bound(app.config)},
    )
