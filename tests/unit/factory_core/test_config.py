"""Configuration: defaults < instance config.py < environment < overrides; safe production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from tests.support.sample import SampleSettings, create_sample

from factory_core import PLACEHOLDER, ConfigurationError
from factory_core.runtime.config import load_config, refuse_unsafe_production

SAFE_SECRET = "s" * 40


def _app(instance: Path) -> Flask:
    return Flask(__name__, instance_path=str(instance), instance_relative_config=True)


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.py").write_text(
        "LOG_LEVEL = 'WARNING'\nAPI_VERSION = '9.9.9'\nMONGO_MAX_POOL_SIZE = 7\n"
    )
    monkeypatch.setenv("SAMPLE_API_VERSION", '"1.2.3"')
    monkeypatch.setenv("SAMPLE_MONGO_MAX_POOL_SIZE", "11")
    monkeypatch.setenv("OTHER_LOG_LEVEL", "DEBUG")  # another service's prefix: ignored
    app = _app(tmp_path)
    load_config(app, SampleSettings, "SAMPLE", {"MONGO_MAX_POOL_SIZE": 13})

    assert app.config["SERVICE_NAME"] == "sample"  # default
    assert app.config["LOG_LEVEL"] == "WARNING"  # instance file over default
    assert app.config["API_VERSION"] == "1.2.3"  # environment over instance file
    assert app.config["MONGO_MAX_POOL_SIZE"] == 13  # override over environment


def test_environment_values_are_json_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAMPLE_CORS_ORIGINS", '["https://app.example"]')
    monkeypatch.setenv("SAMPLE_LOG_JSON", "false")
    app = _app(tmp_path)
    load_config(app, SampleSettings, "SAMPLE")
    assert app.config["CORS_ORIGINS"] == ["https://app.example"]
    assert app.config["LOG_JSON"] is False


def test_database_name_from_uri_then_service_name(tmp_path: Path) -> None:
    app = _app(tmp_path)
    load_config(app, SampleSettings, "SAMPLE", {"MONGO_URI": "mongodb://db:27017/inventory"})
    assert app.config["MONGO_DB_NAME"] == "inventory"
    app = _app(tmp_path)
    load_config(app, SampleSettings, "SAMPLE", {"MONGO_URI": "mongodb://db:27017/"})
    assert app.config["MONGO_DB_NAME"] == "sample"


def test_testing_environment_sets_testing(tmp_path: Path) -> None:
    app = _app(tmp_path)
    load_config(app, SampleSettings, "SAMPLE", {"ENV": "testing"})
    assert app.config["TESTING"] is True


def test_unknown_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SAMPLE_ENV is 'staging'"):
        load_config(_app(tmp_path), SampleSettings, "SAMPLE", {"ENV": "staging"})


def test_production_is_the_default_and_refuses_the_placeholder_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        create_sample({"INSTANCE_PATH": str(tmp_path)})
    message = str(refused.value)
    assert "refusing to start sample in production" in message
    assert "SECRET_KEY must be set" in message
    assert "SAMPLE_<SETTING>" in message
    assert "SAMPLE_ENV=development" in message


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"DEBUG": True}, "DEBUG must be off in production"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": PLACEHOLDER}, "SECRET_KEY must be set"),
        ({"TESTING": True}, "TESTING must be off in production"),
        ({"JWT_ALGORITHM": "HS256"}, "JWT_ALGORITHM must be ES256 or RS256"),
        # Swagger UI's Authorize posts a password there: never in clear over a network.
        ({"TOKEN_URL": "http://auth.internal/auth/token"}, "TOKEN_URL must be an https URL"),
        # Unacknowledged writes: a lease's claim or an idempotent create never sees its
        # duplicate, and a write lost is never known.
        ({"MONGO_WRITE_CONCERN": "0"}, "MONGO_WRITE_CONCERN must acknowledge writes"),
        ({"MONGO_WRITE_CONCERN": 0}, "MONGO_WRITE_CONCERN must acknowledge writes"),
        ({"MONGO_WRITE_CONCERN": "00"}, "MONGO_WRITE_CONCERN must acknowledge writes"),
        ({"MONGO_TIMEOUT_MS": "soon"}, "MONGO_TIMEOUT_MS must be a positive number"),
        # No budget: a hung database hangs every worker until gunicorn kills it.
        ({"MONGO_TIMEOUT_MS": 0}, "MONGO_TIMEOUT_MS must be a positive number"),
    ],
)
def test_production_refusals_name_the_setting(
    tmp_path: Path, overrides: dict[str, object], reason: str
) -> None:
    app = _app(tmp_path)
    load_config(app, SampleSettings, "SAMPLE", {"SECRET_KEY": SAFE_SECRET, **overrides})
    with pytest.raises(ConfigurationError, match=reason):
        refuse_unsafe_production(app, SampleSettings, "SAMPLE")


def test_safe_production_config_starts(tmp_path: Path) -> None:
    app = _app(tmp_path)
    load_config(app, SampleSettings, "SAMPLE", {"SECRET_KEY": SAFE_SECRET})
    refuse_unsafe_production(app, SampleSettings, "SAMPLE")
    assert app.config["ENV"] == "production"


@pytest.mark.parametrize(
    "token_url", ["/auth/token", "auth/token", "https://a.example/t; script-src *", "ftp://a/t"]
)
def test_a_token_url_that_is_not_an_absolute_http_url_is_refused_everywhere(
    tmp_path: Path, token_url: str
) -> None:
    # It goes into the docs' Content-Security-Policy header: nothing else may get in there.
    config = {"ENV": "development", "INSTANCE_PATH": str(tmp_path), "TOKEN_URL": token_url}
    with pytest.raises(ConfigurationError, match="TOKEN_URL must be an absolute http"):
        create_sample(config)


def test_development_accepts_placeholders(tmp_path: Path) -> None:
    app = _app(tmp_path)
    load_config(app, SampleSettings, "SAMPLE", {"ENV": "development"})
    refuse_unsafe_production(app, SampleSettings, "SAMPLE")
    assert app.config["SECRET_KEY"] == PLACEHOLDER


def test_nothing_is_read_at_import() -> None:
    # With an invalid environment, importing must still work (nothing is read at import);
    # only create_app() reads the configuration, and then refuses it.
    env = {**os.environ, "AUTH_ENV": "bogus", "TODO_ENV": "bogus", "SAMPLE_ENV": "bogus"}
    imports = "import factory_core, auth_service, todo_service, auth_service.settings"
    subprocess.run([sys.executable, "-c", imports], env=env, check=True)
    create = "import auth_service; auth_service.create_app()"
    result = subprocess.run(
        [sys.executable, "-c", create], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "AUTH_ENV is 'bogus'" in result.stderr
