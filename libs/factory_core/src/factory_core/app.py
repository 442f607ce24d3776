"""build_app: the one composer every service's create_app calls."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask
from flask_smorest import Blueprint

from factory_core.data.migrations import init_migrations
from factory_core.data.mongo import mongo
from factory_core.runtime import config as config_module
from factory_core.runtime.config import Settings
from factory_core.runtime.lifecycle import init_lifecycle, on_start
from factory_core.runtime.observability import init_observability
from factory_core.runtime.tracing import init_tracing
from factory_core.web.api import Api
from factory_core.web.errors import register_error_handlers
from factory_core.web.health import blp as health_blp
from factory_core.web.http import init_web

Setup = Callable[[Flask, Api], None]


def build_app(
    import_name: str,
    *,
    settings: type[Settings],
    env_prefix: str,
    blueprints: Iterable[Blueprint],
    overrides: Mapping[str, Any] | None = None,
    setup: Setup | None = None,
    migrations: str | None = None,
) -> Flask:
    """Compose a service in one fixed order (docs/architecture.md); ``migrations``: the package
    of the service's migration steps."""
    overrides = dict(overrides or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or config_module.instance_path_from_env(
        env_prefix
    )
    app = Flask(import_name, instance_path=instance_path, instance_relative_config=True)
    config_module.load_config(app, settings, env_prefix, overrides)
    config_module.refuse_unsafe_production(app, settings, env_prefix)

    init_observability(app)
    init_lifecycle(app)
    init_tracing(app)  # before init_web: its ProxyFix then wraps the traced app
    init_web(app)
    mongo.init_app(app)
    if migrations is not None:
        init_migrations(app, migrations)
    on_start(app, mongo.database)  # connected (and migrated, where on) before a request
    api = Api(app)
    api.register_core_components()
    register_error_handlers(app)
    if setup is not None:
        setup(app, api)

    api.register_blueprint(health_blp)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return app
